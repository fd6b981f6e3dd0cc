import assert from 'node:assert/strict';
import { decide, type ProductCommand } from '../../../src/domain/product/commands.ts';
import type { ProductEvent } from '../../../src/domain/product/events.ts';
import { fold } from '../../../src/domain/product/state.ts';
import type { RejectionCode } from '../../../src/domain/rejection.ts';

/** Freezing what decide receives turns any mutation of its inputs into a TypeError (ESM is strict mode). */
export const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
};

/**
 * `given(history).when(command).then(expectedEvents)` or `.thenRejects(code, detail?)`, with no I/O:
 * the history is folded into a state and the command decided against it.
 */
export const given = (history: readonly ProductEvent[] = []) => ({
  when: (command: ProductCommand) => {
    const decision = decide(deepFreeze(command), deepFreeze(fold(history)));
    return {
      // biome-ignore lint/suspicious/noThenProperty: the given/when/then vocabulary is the point; this object is never awaited.
      then: (expected: ProductEvent[]): void => {
        assert.deepStrictEqual(decision, { ok: true, events: expected });
      },
      thenRejects: (code: RejectionCode, detail?: RegExp): void => {
        if (decision.ok) assert.fail(`expected a ${code} rejection, got events ${JSON.stringify(decision.events)}`);
        assert.equal(decision.rejection.code, code, decision.rejection.detail);
        if (detail) assert.match(decision.rejection.detail, detail);
      },
    };
  },
});
