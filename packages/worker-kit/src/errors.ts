/** Stable codes of the errors this package throws. Callers branch on `code`, never on message text. */
export type WorkerKitErrorCode = "KIT_ERR_CONFIG" | "KIT_ERR_BUDGET" | "KIT_ERR_OUTBOX" | "KIT_ERR_SHUTDOWN" | "KIT_ERR_STARTUP";

/** The base error of `@prismq/worker-kit`. */
export class WorkerKitError extends Error {
  readonly code: WorkerKitErrorCode;
  constructor(code: WorkerKitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad configuration; `problems` names every bad variable, one entry each. */
export class ConfigError extends WorkerKitError {
  readonly problems: string[];
  constructor(message: string, problems: string[]) {
    super("KIT_ERR_CONFIG", message);
    this.problems = problems;
  }
}

/**
 * An expected reason not to start: a dependency stayed unreachable until the
 * start-up deadline, or refused us for good (a wrong key). `runMain` prints
 * its message as one line, without a stack. `dependency` names what failed.
 */
export class StartupError extends WorkerKitError {
  constructor(
    readonly dependency: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("KIT_ERR_STARTUP", message, options);
  }
}
