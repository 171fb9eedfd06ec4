// One function per REST endpoint the client uses; nothing else in the app builds URLs.
import { ApiError, request, withQuery } from './http'
import type {
  Chat, FileInfo, LastSeen, Me, Message, MessageStatus, Page, ProblemDetails, PublicUser, PushSubscriptionBody,
  Role, SendMessageBody, Session,
} from './types'

const enc = encodeURIComponent

export const api = {
  register: (body: { username: string; password: string; displayName?: string; email?: string }) =>
    request<Session>('/api/register', { method: 'POST', body, auth: false }),
  login: (login: string, password: string) =>
    request<Session>('/api/login', { method: 'POST', body: { login, password }, auth: false }),
  refresh: (refreshToken: string) =>
    request<Session>('/api/refresh', { method: 'POST', body: { refreshToken }, auth: false }),
  logout: () => request<void>('/api/logout', { method: 'POST' }),

  me: () => request<Me>('/api/users/me'),
  updateMe: (id: string, body: Partial<Pick<Me, 'displayName' | 'about' | 'lastSeenVisibility'>>) =>
    request<Me>(`/api/users/${enc(id)}`, { method: 'PUT', body }),
  searchUsers: (search: string, limit = 20) =>
    request<Page<PublicUser>>(withQuery('/api/users', { search, limit })),
  user: (id: string) => request<PublicUser>(`/api/users/${enc(id)}`),
  lastSeen: (id: string) => request<LastSeen>(`/api/users/${enc(id)}/last-seen`),

  chats: (before?: string, limit = 50) => request<Page<Chat>>(withQuery('/api/chats', { limit, before })),
  chat: (id: string) => request<Chat>(`/api/chats/${enc(id)}`),
  openDirect: (userId: string) => request<Chat>('/api/chats', { method: 'POST', body: { type: 'direct', userId } }),
  createGroup: (name: string, memberIds: string[]) =>
    request<Chat>('/api/chats', { method: 'POST', body: { type: 'group', name, memberIds } }),
  renameChat: (id: string, name: string) => request<Chat>(`/api/chats/${enc(id)}`, { method: 'PUT', body: { name } }),
  addMembers: (id: string, userIds: string[]) =>
    request<Chat>(`/api/chats/${enc(id)}/users`, { method: 'POST', body: { userIds } }),
  removeMember: (id: string, userId: string) =>
    request<void>(`/api/chats/${enc(id)}/users/${enc(userId)}`, { method: 'DELETE' }),
  setRole: (id: string, userId: string, role: Exclude<Role, 'owner'>) =>
    request<Chat>(`/api/chats/${enc(id)}/users/${enc(userId)}`, { method: 'PUT', body: { role } }),

  messages: (chatId: string, q: { before?: number; after?: number; limit?: number }) =>
    request<Page<Message>>(withQuery(`/api/chats/${enc(chatId)}/messages`, q)),
  sendMessage: (chatId: string, body: SendMessageBody) =>
    request<Message>(`/api/chats/${enc(chatId)}/messages`, { method: 'POST', body }),
  editMessage: (id: string, content: string) =>
    request<Message>(`/api/messages/${enc(id)}`, { method: 'PUT', body: { content } }),
  deleteMessage: (id: string) => request<void>(`/api/messages/${enc(id)}`, { method: 'DELETE' }),
  searchMessages: (chatId: string, q: string, limit = 30) =>
    request<Page<Message>>(withQuery(`/api/chats/${enc(chatId)}/messages/search`, { q, limit })),
  messageStatus: (id: string) => request<MessageStatus>(`/api/messages/${enc(id)}/status`),
  markStatus: (id: string, status: 'delivered' | 'read') =>
    request<unknown>(`/api/messages/${enc(id)}/status`, { method: 'POST', body: { status } }),

  pushPublicKey: () => request<{ publicKey: string }>('/api/push/public-key'),
  addPushSubscription: (body: PushSubscriptionBody) => request<void>('/api/push/subscriptions', { method: 'POST', body }),
  removePushSubscription: (endpoint: string) =>
    request<void>('/api/push/subscriptions', { method: 'DELETE', body: { endpoint } }),
}

export interface Upload {
  promise: Promise<FileInfo>
  abort(): void
}

/**
 * Uploads one file with XMLHttpRequest, because fetch cannot report upload progress.
 * A 401 is retried once with a refreshed token, as `request` does.
 */
export function uploadFile(
  chatId: string,
  file: File,
  getToken: () => Promise<string | null>,
  refreshToken: (rejected: string) => Promise<string | null>,
  onProgress: (fraction: number) => void,
): Upload {
  let xhr: XMLHttpRequest | null = null
  let aborted = false

  const attempt = (token: string | null) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      xhr = new XMLHttpRequest()
      xhr.open('POST', `/api/chats/${enc(chatId)}/files`)
      if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`)
      xhr.setRequestHeader('Accept', 'application/json')
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded / e.total)
      }
      xhr.onload = () => resolve({ status: xhr!.status, body: xhr!.responseText })
      xhr.onerror = () => reject(new ApiError(0, { title: 'Upload failed: network error' }))
      xhr.onabort = () => reject(new ApiError(0, { title: 'Upload cancelled' }))
      const form = new FormData()
      form.append('file', file, file.name)
      xhr.send(form)
    })

  const promise = (async () => {
    let token = await getToken()
    let res = await attempt(token)
    if (res.status === 401 && token && !aborted) {
      token = await refreshToken(token)
      if (token) res = await attempt(token)
    }
    if (res.status < 200 || res.status >= 300) {
      let problem: ProblemDetails = {}
      try {
        problem = JSON.parse(res.body) as ProblemDetails
      } catch {
        if (res.status === 413) problem = { title: 'The file is too large' }
      }
      throw new ApiError(res.status, problem)
    }
    onProgress(1)
    return JSON.parse(res.body) as FileInfo
  })()

  return {
    promise,
    abort() {
      aborted = true
      ;(xhr as XMLHttpRequest | null)?.abort()
    },
  }
}
