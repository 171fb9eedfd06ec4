import type { MessageType } from '@/api/types'

/** The message type for an attachment, which decides how it is shown (inline image, player, card). */
export function messageTypeFor(contentType: string): MessageType {
  if (contentType.startsWith('image/')) return 'image'
  if (contentType.startsWith('video/')) return 'video'
  if (contentType.startsWith('audio/')) return 'audio'
  return 'file'
}

/**
 * <img> and <video> cannot send an Authorization header, so file URLs carry the access
 * token as a query parameter, which the server accepts for GET /api/files/{id}.
 */
export function authorizedUrl(url: string, token: string | null): string {
  if (!token) return url
  return `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`
}
