// Shapes of the public REST API and hub payloads (see shared/API.md).

export type Iso = string

export interface Me {
  id: string
  username: string
  displayName: string | null
  email: string | null
  about: string | null
  avatarUrl: string | null
  lastSeenVisibility: 'everyone' | 'contacts' | 'nobody'
  createdAt: Iso
}

export interface PublicUser {
  id: string
  username: string
  displayName: string | null
  avatarUrl: string | null
  about: string | null
  online: boolean | null
  lastSeenAt: Iso | null
}

export interface Session {
  accessToken: string
  refreshToken: string
  expiresAt: Iso
  user: Me
}

export type Role = 'owner' | 'admin' | 'member'

export interface Member {
  userId: string
  username: string
  displayName: string | null
  avatarUrl: string | null
  role: Role
  joinedAt: Iso
}

export interface FileInfo {
  id: string
  chatId: string
  uploaderId: string
  name: string
  contentType: string
  size: number
  url: string
  createdAt: Iso
}

export type MessageType = 'text' | 'image' | 'video' | 'audio' | 'file' | 'system'
export type TickStatus = 'sent' | 'delivered' | 'read'

export interface Message {
  id: string
  chatId: string
  seq: number
  senderId: string
  type: MessageType
  content: string | null
  file: FileInfo | null
  replyToId: string | null
  clientMessageId: string | null
  createdAt: Iso
  editedAt: Iso | null
  deletedAt: Iso | null
  status: TickStatus
}

export interface Chat {
  id: string
  type: 'direct' | 'group'
  name: string | null
  avatarUrl: string | null
  createdAt: Iso
  updatedAt: Iso
  lastSeq: number
  unreadCount: number
  lastMessage: Message | null
  myRole: Role
  members: Member[]
}

export interface Page<T> {
  items: T[]
  hasMore: boolean
}

export interface SendMessageBody {
  clientMessageId: string
  type: MessageType
  content: string | null
  fileId: string | null
  replyToId: string | null
}

export interface LastSeen {
  userId: string
  online: boolean | null
  lastSeenAt: Iso | null
}

export interface ReceiptEvent {
  chatId: string
  userId: string
  status: 'delivered' | 'read'
  seq: number
  at: Iso
}

export interface MessageStatus {
  messageId: string
  status: TickStatus
  recipients: { userId: string; status: TickStatus; deliveredAt: Iso | null; readAt: Iso | null }[]
}

export interface ProblemDetails {
  status?: number
  title?: string
  detail?: string
  errors?: Record<string, string[]>
}

/** `PushSubscription.toJSON()` as `POST /api/push/subscriptions` takes it. */
export interface PushSubscriptionBody {
  endpoint: string
  expirationTime?: number | null
  keys: { p256dh: string; auth: string }
}
