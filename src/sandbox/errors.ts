/** Errors of the sandbox: the simulators `crmsync serve` and `crmsync sandbox` run on this machine. */
import { CrmsyncError } from '../core/errors.ts';

/** Stable codes of {@link SandboxError}. */
export type SandboxErrorCode =
  /** A simulator answered a setup call (token, webhook registration, state) with an error. */
  | 'SANDBOX_SIMULATOR_FAILED'
  /** The simulator's port is taken (another crmsync, or `crmsync sandbox`, runs already). */
  | 'SANDBOX_PORT_IN_USE'
  /** `sandbox.superoffice.traffic.users` names a user the simulated tenant does not have. */
  | 'SANDBOX_UNKNOWN_USER';

/**
 * The sandbox could not be set up or driven. Not retryable: it happens at start-up, where the operator fixes
 * the config (or the simulator's persisted file) and starts again.
 */
export class SandboxError extends CrmsyncError {
  constructor(code: SandboxErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { retryable: false, cause: options.cause });
  }
}
