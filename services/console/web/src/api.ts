/** The page's one way to the server: JSON in and out, the CSRF header on every change, typed errors. */
export interface ErrorPayload {
  code: string;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly payload: ErrorPayload,
  ) {
    super(payload.message);
  }
}

/** Listeners are told when the server says the session is gone, so the page can show the login form. */
export const loginNeeded = new EventTarget();

export async function api<T>(
  method: "GET" | "POST" | "PATCH" | "DELETE",
  path: string,
  body?: unknown,
  contentType?: string,
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") headers["x-speakers-console"] = "1";
  let payload: BodyInit | undefined;
  if (body instanceof Blob) {
    payload = body;
    headers["content-type"] = contentType || body.type || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    ...(payload ? { body: payload } : {}),
  });
  const text = await res.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const error = (data as { error?: ErrorPayload } | undefined)?.error ?? {
      code: "INTERNAL",
      message: `${res.status} ${res.statusText}`,
    };
    if (error.code === "CONSOLE_LOGIN_REQUIRED" && path !== "/api/login")
      loginNeeded.dispatchEvent(new Event("login"));
    throw new ApiError(res.status, error);
  }
  return data as T;
}

export function errorOf(err: unknown): ErrorPayload {
  if (err instanceof ApiError) return err.payload;
  return { code: "INTERNAL", message: err instanceof Error ? err.message : String(err) };
}
