// ApiError: every failed call to the Kiln server, as one typed error.
//
// The server answers failures with {"error": {"code", "message"}} and an HTTP
// status (422 for a patch that breaks a meta-type rule). Transport failures
// (server down, bad JSON) become ApiErrors too, with status 0 or the HTTP
// status and a client-side code, so callers handle a single error type.

export type ClientErrorCode = 'network' | 'bad_response' | 'http_error';

export class ApiError extends Error {
  constructor(
    /** HTTP status; 0 when no response arrived. */
    readonly status: number,
    /** The server's error code, or a ClientErrorCode. */
    readonly code: string,
    message: string,
    /**
     * The whole parsed error body when the server sent JSON: extra fields
     * ride along here (a merge's "conflicts", a parse error's line/column).
     */
    readonly body?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** A patch refused because it would break a rule of the model. */
  get isRuleViolation(): boolean {
    return this.status === 422;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }
}

/** Builds the ApiError for a non-2xx response from its body text. */
export function errorFromResponse(status: number, statusText: string, body: string): ApiError {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isErrorBody(parsed)) return new ApiError(status, parsed.error.code, parsed.error.message, parsed);
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): fall through.
  }
  const text = body.trim().slice(0, 200);
  return new ApiError(status, 'http_error', text || statusText || `HTTP ${status}`);
}

function isErrorBody(v: unknown): v is { error: { code: string; message: string } } {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e = v.error;
  return (
    typeof e === 'object' &&
    e !== null &&
    'code' in e &&
    typeof e.code === 'string' &&
    'message' in e &&
    typeof e.message === 'string'
  );
}
