import type { Message, TickStatus } from '@/api/types'

/** How far one recipient has got in a chat: every message with seq <= the number is delivered / read. */
export interface Watermark {
  delivered: number
  read: number
}
export type Watermarks = Record<string, Watermark>

const RANK: Record<TickStatus, number> = { sent: 0, delivered: 1, read: 2 }

export function maxStatus(a: TickStatus, b: TickStatus): TickStatus {
  return RANK[a] >= RANK[b] ? a : b
}

/** Raises one user's watermark. Watermarks never go back, and read implies delivered. */
export function applyReceipt(w: Watermarks, userId: string, status: 'delivered' | 'read', seq: number): void {
  const cur = (w[userId] ??= { delivered: 0, read: 0 })
  if (status === 'read') cur.read = Math.max(cur.read, seq)
  cur.delivered = Math.max(cur.delivered, seq, cur.read)
}

/** The tick of a message: the least advanced over all recipients (a group is "read" once everyone read it). */
export function tickState(seq: number, recipients: string[], w: Watermarks): TickStatus {
  if (recipients.length === 0) return 'sent'
  let least: TickStatus = 'read'
  for (const id of recipients) {
    const mark = w[id]
    const s: TickStatus = !mark ? 'sent' : mark.read >= seq ? 'read' : mark.delivered >= seq ? 'delivered' : 'sent'
    if (RANK[s] < RANK[least]) least = s
  }
  return least
}

/**
 * Learns watermarks from the status the server reported on my own messages: a message that is
 * "read" means every recipient has read up to its seq. This lets a later receipt from just one
 * group member turn the ticks blue without knowing everyone's receipts from before.
 */
export function inferWatermarks(messages: Message[], myId: string, recipients: string[], w: Watermarks): void {
  let delivered = 0
  let read = 0
  for (const m of messages) {
    if (m.senderId !== myId) continue
    if (m.status === 'read') read = Math.max(read, m.seq)
    if (m.status !== 'sent') delivered = Math.max(delivered, m.seq)
  }
  if (delivered === 0 && read === 0) return
  for (const id of recipients) {
    if (read) applyReceipt(w, id, 'read', read)
    if (delivered) applyReceipt(w, id, 'delivered', delivered)
  }
}

/** The tick to show: whichever is further, what the server said or what the receipts since then say. */
export function effectiveStatus(m: Message, recipients: string[], w: Watermarks): TickStatus {
  return maxStatus(m.status, tickState(m.seq, recipients, w))
}
