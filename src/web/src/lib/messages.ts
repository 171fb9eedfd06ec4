import type { Message } from '@/api/types'
import { maxStatus } from './receipts'
import { dayKey, dayLabel } from './format'

/** Of two copies of the same message, the later state: a delete or edit wins over an older copy. */
export function newerVersion(a: Message, b: Message): Message {
  let winner: Message
  if (a.deletedAt && !b.deletedAt) winner = a
  else if (b.deletedAt && !a.deletedAt) winner = b
  else if ((a.editedAt ?? '') > (b.editedAt ?? '')) winner = a
  else winner = b // equal versions: take the one that arrived last
  // Receipts only move forward, so never let an older copy lower the tick.
  const status = maxStatus(a.status, b.status)
  return winner.status === status ? winner : { ...winner, status }
}

/**
 * Merges fetched or pushed messages into a list sorted by seq, without duplicates:
 * the same id, or the same seq (one seq is one message in a chat), appears once.
 */
export function mergeMessages(existing: Message[], incoming: Message[]): Message[] {
  const bySeq = new Map<number, Message>()
  const seqOfId = new Map<string, number>()
  for (const m of existing) {
    bySeq.set(m.seq, m)
    seqOfId.set(m.id, m.seq)
  }
  for (const m of incoming) {
    const oldSeq = seqOfId.get(m.id)
    const old = oldSeq !== undefined ? bySeq.get(oldSeq) : bySeq.get(m.seq)
    if (oldSeq !== undefined && oldSeq !== m.seq) bySeq.delete(oldSeq)
    if (old && old.id !== m.id) seqOfId.delete(old.id) // the server's copy at that seq wins
    const next = old && old.id === m.id ? newerVersion(old, m) : m
    bySeq.set(m.seq, next)
    seqOfId.set(m.id, m.seq)
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq)
}

export type ListRow<T> = { kind: 'day'; key: string; label: string } | { kind: 'item'; key: string; item: T }

/** Interleaves day separators with items ordered by time; one separator before each new local day. */
export function withDaySeparators<T extends { createdAt: string }>(
  items: T[],
  keyOf: (item: T) => string,
  now: Date = new Date(),
  locale?: string,
): ListRow<T>[] {
  const rows: ListRow<T>[] = []
  let lastDay = ''
  for (const item of items) {
    const day = dayKey(new Date(item.createdAt))
    if (day !== lastDay) {
      rows.push({ kind: 'day', key: `day-${day}`, label: dayLabel(item.createdAt, now, locale) })
      lastDay = day
    }
    rows.push({ kind: 'item', key: keyOf(item), item })
  }
  return rows
}
