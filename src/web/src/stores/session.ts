import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api } from '@/api'
import { ApiError, setAuthHooks } from '@/api/http'
import type { Me, Session } from '@/api/types'

/** Kept in localStorage so a reload (or another tab) stays logged in. */
export const STORAGE_KEY = 'whisper.session'
/** Refresh this long before the access token expires, so requests never race the expiry. */
export const REFRESH_MARGIN_MS = 60_000
const RETRY_REFRESH_MS = 15_000

interface Stored {
  accessToken: string
  refreshToken: string
  expiresAt: string
  user: Me
}

function readStored(): Stored | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY)
    return raw ? (JSON.parse(raw) as Stored) : null
  } catch {
    return null
  }
}

/**
 * Runs `fn` while holding a lock shared by all tabs of this origin, where the browser has
 * Web Locks. Refresh tokens rotate and presenting a rotated one revokes the whole session,
 * so two tabs must never refresh with the same token.
 */
function withCrossTabLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined
  return locks ? (locks.request('whisper.refresh', fn) as Promise<T>) : fn()
}

/** A refusal of the refresh token (as opposed to a network failure, after which we keep it). */
function isRefusal(e: unknown): boolean {
  return e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429
}

export const useSessionStore = defineStore('session', () => {
  const user = ref<Me | null>(null)
  const accessToken = ref<string | null>(null)
  const refreshToken = ref<string | null>(null)
  const expiresAt = ref(0)

  const isLoggedIn = computed(() => refreshToken.value !== null && user.value !== null)
  const userId = computed(() => user.value?.id ?? '')

  /**
   * A non-reactive copy of the access token for file URLs: reading the ref inside a computed
   * would rebuild every <img> URL (and reload every image) at each refresh.
   */
  let untrackedToken: string | null = null
  let inflight: Promise<string | null> | null = null
  let timer: ReturnType<typeof setTimeout> | undefined
  let storageListening = false

  function tokenIsFresh(expiry: number, now = Date.now()): boolean {
    return expiry - now > REFRESH_MARGIN_MS
  }

  function setState(s: Stored) {
    user.value = s.user
    accessToken.value = s.accessToken
    untrackedToken = s.accessToken
    refreshToken.value = s.refreshToken
    expiresAt.value = Date.parse(s.expiresAt)
    scheduleRefresh()
  }

  /** Takes a new session from the server, storing the new refresh token every time (rotation). */
  function apply(s: Session) {
    const stored: Stored = { accessToken: s.accessToken, refreshToken: s.refreshToken, expiresAt: s.expiresAt, user: s.user }
    localStorage.setItem(STORAGE_KEY, JSON.stringify(stored))
    setState(stored)
  }

  function clearLocal() {
    clearTimeout(timer)
    localStorage.removeItem(STORAGE_KEY)
    user.value = null
    accessToken.value = null
    untrackedToken = null
    refreshToken.value = null
    expiresAt.value = 0
  }

  function scheduleRefresh() {
    clearTimeout(timer)
    if (!refreshToken.value) return
    const delay = Math.max(5_000, expiresAt.value - Date.now() - REFRESH_MARGIN_MS)
    timer = setTimeout(() => {
      refresh().catch(() => {
        // Offline: try again soon; requests made meanwhile refresh on their own too.
        clearTimeout(timer)
        timer = setTimeout(scheduleRefresh, RETRY_REFRESH_MS)
      })
    }, delay)
  }

  async function doRefresh(): Promise<string | null> {
    return withCrossTabLock(async () => {
      // Another tab may have rotated the token while we waited for the lock: adopt its result.
      const stored = readStored()
      if (!stored) {
        clearLocal()
        return null
      }
      if (stored.accessToken !== accessToken.value && tokenIsFresh(Date.parse(stored.expiresAt))) {
        setState(stored)
        return stored.accessToken
      }
      try {
        const s = await api.refresh(stored.refreshToken)
        apply(s)
        return s.accessToken
      } catch (e) {
        if (isRefusal(e)) {
          clearLocal()
          return null
        }
        throw e
      }
    })
  }

  /** Refreshes the access token; concurrent callers share the one request in flight. */
  function refresh(): Promise<string | null> {
    if (!refreshToken.value) return Promise.resolve(null)
    inflight ??= doRefresh().finally(() => {
      inflight = null
    })
    return inflight
  }

  /** A usable access token, refreshed first when close to expiry. Offline, the old one is returned. */
  async function getAccessToken(): Promise<string | null> {
    if (!refreshToken.value) return null
    if (!accessToken.value || !tokenIsFresh(expiresAt.value)) {
      try {
        return await refresh()
      } catch {
        return accessToken.value
      }
    }
    return accessToken.value
  }

  /** After a 401: refresh, unless a refresh already happened since that token was handed out. */
  async function refreshAfter401(rejected: string): Promise<string | null> {
    if (accessToken.value && accessToken.value !== rejected && tokenIsFresh(expiresAt.value)) return accessToken.value
    try {
      return await refresh()
    } catch {
      return null
    }
  }

  /** The current token without refreshing and without reactivity, for URLs of images and videos. */
  function peekAccessToken(): string | null {
    return untrackedToken
  }

  function listenToOtherTabs() {
    if (storageListening || typeof window === 'undefined') return
    storageListening = true
    window.addEventListener('storage', (e) => {
      if (e.key !== STORAGE_KEY) return
      const stored = readStored()
      if (!stored) clearLocal() // logged out in another tab
      else setState(stored)
    })
  }

  /** Called once at start-up: picks up the stored session and makes sure the access token works. */
  async function restore(): Promise<void> {
    setAuthHooks({ accessToken: getAccessToken, refreshAfter401 })
    listenToOtherTabs()
    const stored = readStored()
    if (!stored) return
    setState(stored)
    if (!tokenIsFresh(expiresAt.value)) {
      // A network failure keeps the session: the app starts offline and catches up later.
      // Do not hold the first paint for long on a hanging network either.
      const slow = new Promise((resolve) => setTimeout(resolve, 5_000))
      await Promise.race([refresh().catch(() => undefined), slow])
    }
  }

  async function login(login: string, password: string) {
    apply(await api.login(login, password))
  }

  async function register(body: { username: string; password: string; displayName?: string; email?: string }) {
    apply(await api.register(body))
  }

  async function logout() {
    try {
      await api.logout()
    } catch {
      // Ending the local session matters more than telling the server; its token expires anyway.
    }
    clearLocal()
  }

  function setUser(me: Me) {
    user.value = me
    const stored = readStored()
    if (stored) localStorage.setItem(STORAGE_KEY, JSON.stringify({ ...stored, user: me }))
  }

  return {
    user, accessToken, refreshToken, expiresAt, isLoggedIn, userId,
    restore, login, register, logout, refresh, getAccessToken, refreshAfter401, peekAccessToken, setUser,
  }
})
