import { vi } from 'vitest'
import type { Chat, Member, Message, Session } from '@/api/types'

export function jsonResponse(status: number, body?: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  })
}

export type Handler = (url: string, init: RequestInit) => Response | Promise<Response>

/** Replaces global fetch; each call is answered by the handler and recorded. */
export function mockFetch(handler: Handler) {
  const calls: { url: string; method: string; body: unknown; auth: string | null }[] = []
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input)
    const headers = (init.headers ?? {}) as Record<string, string>
    calls.push({
      url,
      method: init.method ?? 'GET',
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      auth: headers.Authorization ?? null,
    })
    return handler(url, init)
  })
  vi.stubGlobal('fetch', fn)
  return { fn, calls }
}

export const ME = {
  id: 'u-me',
  username: 'me',
  displayName: 'Me Myself',
  email: null,
  about: null,
  avatarUrl: null,
  lastSeenVisibility: 'everyone' as const,
  createdAt: '2026-01-01T00:00:00Z',
}

export function session(n: number, expiresInMs = 15 * 60_000): Session {
  return {
    accessToken: `access-${n}`,
    refreshToken: `refresh-${n}`,
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    user: ME,
  }
}

export function member(userId: string, role: Member['role'] = 'member'): Member {
  return { userId, username: userId, displayName: userId, avatarUrl: null, role, joinedAt: '2026-01-01T00:00:00Z' }
}

export function msg(seq: number, over: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    chatId: 'c1',
    seq,
    senderId: 'u-other',
    type: 'text',
    content: `message ${seq}`,
    file: null,
    replyToId: null,
    clientMessageId: null,
    createdAt: new Date(Date.UTC(2026, 10, 23, 10, seq)).toISOString(),
    editedAt: null,
    deletedAt: null,
    status: 'sent',
    ...over,
  }
}

export function chat(id: string, over: Partial<Chat> = {}): Chat {
  return {
    id,
    type: 'direct',
    name: id,
    avatarUrl: null,
    createdAt: '2026-11-01T00:00:00Z',
    updatedAt: '2026-11-01T00:00:00Z',
    lastSeq: 0,
    unreadCount: 0,
    lastMessage: null,
    myRole: 'member',
    members: [member('u-me'), member('u-other')],
    ...over,
  }
}
