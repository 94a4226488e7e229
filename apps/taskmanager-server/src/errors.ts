/**
 * An answer in the envelope error shape: `{"success":false,"error":…,"details"?:[…],"timestamp":…}`.
 * Handlers throw it; the error handler writes it. Never carries SQL or stack text.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly details?: string[],
  ) {
    super(error);
    this.name = "ApiError";
  }
}

export const badRequest = (error: string, details?: string[]) => new ApiError(400, error, details);
export const notFound = (error: string) => new ApiError(404, error);
