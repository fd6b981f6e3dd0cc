/** One part of the local stack, as `up`, `down` and `status` see it. */
export interface Component {
  name: string;
  address: string;
  /** Installs what is missing (idempotent, cached). */
  install(): Promise<void>;
  /** Starts it unless it runs already, and returns once a real check answers. */
  start(): Promise<void>;
  healthy(): Promise<boolean>;
  pid(): number | undefined;
  stop(): Promise<void>;
  /** Extra text for the status table (e.g. projection lag). */
  detail?(): Promise<string>;
}
