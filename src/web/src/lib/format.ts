// Pure formatting helpers. `now` and `locale` are parameters so tests are deterministic.

const DAY_MS = 86_400_000

/** Up to two initials from a display name or username: "Ada Lovelace" -> "AL", "bob_smith" -> "BS". */
export function initials(name: string | null | undefined): string {
  const words = (name ?? '').trim().split(/[\s._-]+/u).filter(Boolean)
  if (words.length === 0) return '?'
  // Array.from splits by code point, so an emoji or accented letter stays whole.
  const first = (w: string) => Array.from(w)[0]!.toLocaleUpperCase()
  return words.length === 1 ? first(words[0]!) : first(words[0]!) + first(words[words.length - 1]!)
}

/** Human file size in binary units: 0 B, 999 B, 1.5 KB, 12 MB, 1.2 GB. */
export function formatFileSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return ''
  if (bytes < 1024) return `${bytes} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let value = bytes / 1024
  let i = 0
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024
    i++
  }
  // One decimal below 10 reads well ("1.5 MB"), whole numbers above ("120 MB").
  const text = value < 10 ? value.toFixed(1).replace(/\.0$/, '') : Math.round(value).toString()
  return `${text} ${units[i]}`
}

/** Local calendar day as a sortable key, e.g. "2026-11-23". */
export function dayKey(date: Date): string {
  const m = String(date.getMonth() + 1).padStart(2, '0')
  const d = String(date.getDate()).padStart(2, '0')
  return `${date.getFullYear()}-${m}-${d}`
}

/** Whole calendar days between two local dates (0 = same day, 1 = yesterday). */
function daysBetween(then: Date, now: Date): number {
  const a = new Date(then.getFullYear(), then.getMonth(), then.getDate()).getTime()
  const b = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime()
  return Math.round((b - a) / DAY_MS)
}

export function formatTime(iso: string | Date, locale?: string): string {
  return new Date(iso).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
}

/** Label of a day separator in the message list: Today, Yesterday, a weekday this week, else the date. */
export function dayLabel(iso: string | Date, now: Date = new Date(), locale?: string): string {
  const date = new Date(iso)
  const days = daysBetween(date, now)
  if (days === 0) return 'Today'
  if (days === 1) return 'Yesterday'
  if (days > 1 && days < 7) return date.toLocaleDateString(locale, { weekday: 'long' })
  const sameYear = date.getFullYear() === now.getFullYear()
  return date.toLocaleDateString(locale, { day: 'numeric', month: 'long', ...(sameYear ? {} : { year: 'numeric' }) })
}

/** Short time for the chat list: 14:05 today, "Yesterday", a weekday this week, else a short date. */
export function chatListTime(iso: string | Date, now: Date = new Date(), locale?: string): string {
  const date = new Date(iso)
  const days = daysBetween(date, now)
  if (days <= 0) return formatTime(date, locale)
  if (days === 1) return 'Yesterday'
  if (days < 7) return date.toLocaleDateString(locale, { weekday: 'short' })
  const sameYear = date.getFullYear() === now.getFullYear()
  return date.toLocaleDateString(locale, { day: 'numeric', month: 'short', ...(sameYear ? {} : { year: '2-digit' }) })
}

/**
 * The presence line of a direct chat's header. `online`/`lastSeenAt` are null when the
 * person's privacy setting hides them; then we say "last seen recently", as other messengers do.
 */
export function lastSeenText(
  p: { online: boolean | null; lastSeenAt: string | null } | null | undefined,
  now: Date = new Date(),
  locale?: string,
): string {
  if (!p) return ''
  if (p.online) return 'online'
  if (!p.lastSeenAt) return 'last seen recently'
  const date = new Date(p.lastSeenAt)
  const seconds = (now.getTime() - date.getTime()) / 1000
  if (seconds < 60) return 'last seen just now'
  if (seconds < 3600) {
    const minutes = Math.floor(seconds / 60)
    return `last seen ${minutes} minute${minutes === 1 ? '' : 's'} ago`
  }
  const days = daysBetween(date, now)
  const time = formatTime(date, locale)
  if (days === 0) return `last seen today at ${time}`
  if (days === 1) return `last seen yesterday at ${time}`
  const sameYear = date.getFullYear() === now.getFullYear()
  const day = date.toLocaleDateString(locale, { day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }) })
  return `last seen ${day} at ${time}`
}

/** A one-line preview of a message for the chat list and reply quotes. */
export function messagePreview(m: { content: string | null; file: { name: string } | null; type: string; deletedAt: string | null } | null): string {
  if (!m) return ''
  if (m.deletedAt) return 'Message deleted'
  const text = (m.content ?? '').replace(/\s+/g, ' ').trim()
  if (text) return text
  if (m.file) {
    const icon = m.type === 'image' ? '🖼 ' : m.type === 'video' ? '🎬 ' : m.type === 'audio' ? '🎵 ' : '📎 '
    return icon + m.file.name
  }
  return ''
}
