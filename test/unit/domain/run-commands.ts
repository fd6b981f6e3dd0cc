import { type Decision, decide, type ProductCommand } from '../../../src/domain/product/commands.ts';
import { fold, initialState, type ProductState } from '../../../src/domain/product/state.ts';

export interface Step {
  command: ProductCommand;
  before: ProductState;
  decision: Decision;
  after: ProductState;
}

/** Decides each command against the state so far and applies what was accepted, as an actor would. */
export const runCommands = (commands: readonly ProductCommand[]): Step[] => {
  const steps: Step[] = [];
  let state: ProductState = initialState;
  for (const command of commands) {
    const decision = decide(command, state);
    const after: ProductState = decision.ok ? fold(decision.events, state) : state;
    steps.push({ command, before: state, decision, after });
    state = after;
  }
  return steps;
};
