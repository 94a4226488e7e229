/** Stable error codes of this package; callers branch on `code`, never on message text. */
export type TaskTypesErrorCode = "TASK_ERR_PARAMS";

/**
 * Params that break a task type's schema. Thrown by `params()` and
 * `create()` before anything reaches the server.
 */
export class TaskParamsError extends Error {
  /** Always `TASK_ERR_PARAMS`. */
  readonly code: TaskTypesErrorCode = "TASK_ERR_PARAMS";
  /** The task type whose schema the params break. */
  readonly taskType: string;
  /** One line per problem, each starting with the field it concerns, e.g. `video_id must match pattern "…" (got "abc")`. */
  readonly details: string[];
  /** The fields named in `details`, once each, in order (`params` when the value itself is wrong). */
  readonly fields: string[];

  constructor(taskType: string, details: string[], fields: string[]) {
    super(`Invalid params for ${taskType}: ${details.join("; ")}`);
    this.name = "TaskParamsError";
    this.taskType = taskType;
    this.details = details;
    this.fields = fields;
  }
}
