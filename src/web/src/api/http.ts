import type { ProblemDetails } from './types'

/** An HTTP answer that was not 2xx, carrying the server's problem details. */
export class ApiError extends Error {
  readonly status: number
  readonly problem: ProblemDetails

  constructor(status: number, problem: ProblemDetails) {
    super(problemMessage(status, problem))
    this.name = 'ApiError'
    this.status = status
    this.problem = problem
  }
}

/** The text to show a person: `detail`, else the first validation error, else the title. */
export function problemMessage(status: number, p: ProblemDetails): string {
  if (p.detail) return p.detail
  const first = p.errors && Object.values(p.errors).flat()[0]
  if (first) return first
  if (p.title) return p.title
  if (status === 0) return 'Network error'
  return `Request failed (${status})`
}

/** True when the request never got an answer (offline, DNS, server down), so retrying later makes sense. */
export function isNetworkError(e: unknown): boolean {
  return e instanceof TypeError || (e instanceof ApiError && e.status === 0)
}

/** True for answers worth retrying later (server trouble or throttling), as opposed to a refusal. */
export function isTransient(e: unknown): boolean {
  if (isNetworkError(e)) return true
  return e instanceof ApiError && (e.status >= 500 || e.status === 429 || e.status === 408)
}

/**
 * The session store plugs itself in here, so this module needs no import of the store
 * (which itself calls the API to refresh) and tests can plug in a fake.
 */
export interface AuthHooks {
  /** A valid access token, refreshing first when it is about to expire; null when logged out. */
  accessToken(): Promise<string | null>
  /** Called after a 401: refresh once (shared with concurrent callers); null when that failed. */
  refreshAfter401(rejectedToken: string): Promise<string | null>
}

let hooks: AuthHooks | null = null
export function setAuthHooks(h: AuthHooks | null): void {
  hooks = h
}

export interface RequestOptions {
  method?: string
  body?: unknown
  /** false for register/login/refresh, which must not carry or refresh a token. */
  auth?: boolean
  signal?: AbortSignal
}

async function readProblem(res: Response): Promise<ProblemDetails> {
  try {
    const text = await res.text()
    return text ? (JSON.parse(text) as ProblemDetails) : {}
  } catch {
    return {}
  }
}

async function send(path: string, opts: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
  if (token) headers.Authorization = `Bearer ${token}`
  return fetch(path, {
    method: opts.method ?? 'GET',
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: opts.signal,
  })
}

/** JSON request against the API; on a 401 the token is refreshed once and the request repeated. */
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const useAuth = opts.auth !== false && hooks !== null
  let token = useAuth ? await hooks!.accessToken() : null
  let res = await send(path, opts, token)
  if (res.status === 401 && useAuth && token) {
    token = await hooks!.refreshAfter401(token)
    if (token) res = await send(path, opts, token)
  }
  if (!res.ok) throw new ApiError(res.status, await readProblem(res))
  if (res.status === 204) return undefined as T
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

/** Adds query parameters, skipping empty ones. */
export function withQuery(path: string, q: Record<string, string | number | null | undefined>): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) if (v !== null && v !== undefined && v !== '') params.set(k, String(v))
  const s = params.toString()
  return s ? `${path}?${s}` : path
}
