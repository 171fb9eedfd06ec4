import { describe, expect, it } from 'vitest'
import { applyReceipt, effectiveStatus, inferWatermarks, maxStatus, tickState, type Watermarks } from '@/lib/receipts'
import { msg } from './helpers'

describe('receipt watermarks', () => {
  it('never go back, and read implies delivered', () => {
    const w: Watermarks = {}
    applyReceipt(w, 'bob', 'delivered', 5)
    applyReceipt(w, 'bob', 'delivered', 3)
    expect(w.bob).toEqual({ delivered: 5, read: 0 })
    applyReceipt(w, 'bob', 'read', 7)
    expect(w.bob).toEqual({ delivered: 7, read: 7 })
    applyReceipt(w, 'bob', 'read', 2)
    expect(w.bob).toEqual({ delivered: 7, read: 7 })
  })

  it('turn into ticks for a direct chat', () => {
    const w: Watermarks = {}
    applyReceipt(w, 'bob', 'delivered', 5)
    applyReceipt(w, 'bob', 'read', 3)
    expect(tickState(2, ['bob'], w)).toBe('read')
    expect(tickState(3, ['bob'], w)).toBe('read')
    expect(tickState(4, ['bob'], w)).toBe('delivered')
    expect(tickState(5, ['bob'], w)).toBe('delivered')
    expect(tickState(6, ['bob'], w)).toBe('sent')
  })

  it('take the least advanced member of a group', () => {
    const w: Watermarks = {}
    applyReceipt(w, 'bob', 'read', 10)
    applyReceipt(w, 'carol', 'delivered', 10)
    expect(tickState(10, ['bob', 'carol'], w)).toBe('delivered')
    applyReceipt(w, 'carol', 'read', 10)
    expect(tickState(10, ['bob', 'carol'], w)).toBe('read')
    // dave has no receipt at all yet
    expect(tickState(10, ['bob', 'carol', 'dave'], w)).toBe('sent')
  })

  it('are learned from the status the server reported on my messages', () => {
    const w: Watermarks = {}
    const mine = [
      msg(1, { senderId: 'me', status: 'read' }),
      msg(2, { senderId: 'bob', status: 'sent' }),
      msg(3, { senderId: 'me', status: 'delivered' }),
      msg(4, { senderId: 'me', status: 'sent' }),
    ]
    inferWatermarks(mine, 'me', ['bob', 'carol'], w)
    expect(w.bob).toEqual({ delivered: 3, read: 1 })
    expect(w.carol).toEqual({ delivered: 3, read: 1 })
    // One live receipt from carol now completes the group's read state for message 3.
    applyReceipt(w, 'bob', 'read', 3)
    expect(tickState(3, ['bob', 'carol'], w)).toBe('delivered')
    applyReceipt(w, 'carol', 'read', 3)
    expect(tickState(3, ['bob', 'carol'], w)).toBe('read')
  })

  it('never show less than the server said', () => {
    expect(effectiveStatus(msg(4, { status: 'read' }), ['bob'], {})).toBe('read')
    expect(effectiveStatus(msg(4, { status: 'sent' }), ['bob'], { bob: { delivered: 4, read: 0 } })).toBe('delivered')
    expect(maxStatus('delivered', 'sent')).toBe('delivered')
  })

  it('show a chat with nobody else as sent', () => {
    expect(tickState(1, [], {})).toBe('sent')
  })
})
