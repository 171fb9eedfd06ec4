import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { api } from '@/api'
import { ApiError, setAuthHooks } from '@/api/http'
import { REFRESH_MARGIN_MS, STORAGE_KEY, useSessionStore } from '@/stores/session'
import { jsonResponse, mockFetch, session } from './helpers'

function stored() {
  return JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null')
}

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
  setAuthHooks(null)
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('session store', () => {
  it('logs in and keeps the session for the next page load', async () => {
    const { calls } = mockFetch(() => jsonResponse(200, session(1)))
    const s = useSessionStore()
    await s.restore()
    await s.login('me', 'password1')
    expect(calls[0]).toMatchObject({ url: '/api/login', method: 'POST', body: { login: 'me', password: 'password1' }, auth: null })
    expect(s.isLoggedIn).toBe(true)
    expect(stored().refreshToken).toBe('refresh-1')
  })

  it('restores a stored session without a request while the access token is fresh', async () => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(session(1)))
    const { calls } = mockFetch(() => jsonResponse(500))
    const s = useSessionStore()
    await s.restore()
    expect(s.isLoggedIn).toBe(true)
    expect(await s.getAccessToken()).toBe('access-1')
    expect(calls).toHaveLength(0)
  })

  it('refreshes an expired token on restore and stores the rotated refresh token', async () => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(session(1, -1000)))
    const { calls } = mockFetch(() => jsonResponse(200, session(2)))
    const s = useSessionStore()
    await s.restore()
    expect(calls[0]).toMatchObject({ url: '/api/refresh', body: { refreshToken: 'refresh-1' } })
    expect(s.accessToken).toBe('access-2')
    expect(stored().refreshToken).toBe('refresh-2')
  })

  it('sends one refresh for many concurrent callers', async () => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(session(1, REFRESH_MARGIN_MS / 2)))
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const { calls } = mockFetch(async () => {
      await gate
      return jsonResponse(200, session(2))
    })
    const s = useSessionStore()
    // restore() starts a refresh (the token is inside the margin); the others join it.
    const restoring = s.restore()
    const tokens = Promise.all([s.getAccessToken(), s.getAccessToken(), s.refresh()])
    release()
    await restoring
    expect(await tokens).toEqual(['access-2', 'access-2', 'access-2'])
    expect(calls.filter((c) => c.url === '/api/refresh')).toHaveLength(1)
  })

  it('refreshes once after a 401 and repeats the request with the new token', async () => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(session(1)))
    const { calls } = mockFetch((url, init) => {
      const auth = (init.headers as Record<string, string>).Authorization
      if (url === '/api/refresh') return jsonResponse(200, session(2))
      if (auth === 'Bearer access-1') return jsonResponse(401, { title: 'Unauthorized' })
      return jsonResponse(200, { items: [], hasMore: false })
    })
    const s = useSessionStore()
    await s.restore()
    // Two requests rejected at the same time still cause a single refresh.
    const [a, b] = await Promise.all([api.chats(), api.searchUsers('x')])
    expect(a.items).toEqual([])
    expect(b.items).toEqual([])
    expect(calls.filter((c) => c.url === '/api/refresh')).toHaveLength(1)
    expect(calls.filter((c) => c.auth === 'Bearer access-2')).toHaveLength(2)
    expect(stored().refreshToken).toBe('refresh-2')
  })

  it('ends the session when the refresh token is refused', async () => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(session(1)))
    mockFetch((url) => (url === '/api/refresh' ? jsonResponse(401, { detail: 'Session revoked' }) : jsonResponse(401, {})))
    const s = useSessionStore()
    await s.restore()
    await expect(api.chats()).rejects.toBeInstanceOf(ApiError)
    expect(s.isLoggedIn).toBe(false)
    expect(localStorage.getItem(STORAGE_KEY)).toBeNull()
  })

  it('keeps the session when the refresh fails for lack of network', async () => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(session(1, -1000)))
    mockFetch(() => {
      throw new TypeError('Failed to fetch')
    })
    const s = useSessionStore()
    await s.restore()
    expect(s.isLoggedIn).toBe(true)
    expect(stored().refreshToken).toBe('refresh-1')
  })

  it('refreshes by itself shortly before the access token expires', async () => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2026-11-23T10:00:00Z'))
    const { calls } = mockFetch(() => jsonResponse(200, session(2)))
    localStorage.setItem(STORAGE_KEY, JSON.stringify(session(1, 15 * 60_000)))
    const s = useSessionStore()
    await s.restore()
    await vi.advanceTimersByTimeAsync(15 * 60_000 - REFRESH_MARGIN_MS - 1000)
    expect(calls).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(2000)
    expect(calls.map((c) => c.url)).toEqual(['/api/refresh'])
    expect(s.accessToken).toBe('access-2')
  })

  it('adopts a token another tab already refreshed instead of presenting the rotated one', async () => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(session(1, -1000)))
    const { calls } = mockFetch(() => jsonResponse(200, session(9)))
    const s = useSessionStore()
    // Simulate the other tab finishing its refresh just before ours starts.
    s.$patch({ refreshToken: 'refresh-1' })
    localStorage.setItem(STORAGE_KEY, JSON.stringify(session(2)))
    await s.restore()
    expect(calls).toHaveLength(0)
    expect(s.accessToken).toBe('access-2')
  })

  it('logs out on the server and forgets the tokens', async () => {
    const { calls } = mockFetch((url) => (url === '/api/logout' ? jsonResponse(204) : jsonResponse(200, session(1))))
    const s = useSessionStore()
    await s.restore()
    await s.login('me', 'pw')
    await s.logout()
    expect(calls.at(-1)).toMatchObject({ url: '/api/logout', method: 'POST', auth: 'Bearer access-1' })
    expect(s.isLoggedIn).toBe(false)
    expect(localStorage.getItem(STORAGE_KEY)).toBeNull()
  })
})
