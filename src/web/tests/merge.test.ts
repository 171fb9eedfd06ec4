import { describe, expect, it } from 'vitest'
import { mergeMessages, newerVersion } from '@/lib/messages'
import { msg } from './helpers'

describe('mergeMessages', () => {
  it('sorts by seq and drops duplicates by id', () => {
    const merged = mergeMessages([msg(3), msg(1)], [msg(2), msg(3), msg(1)])
    expect(merged.map((m) => m.seq)).toEqual([1, 2, 3])
  })

  it('keeps one message per seq, the server copy winning over a stale one', () => {
    const merged = mergeMessages([msg(5, { id: 'old' })], [msg(5, { id: 'new' })])
    expect(merged).toHaveLength(1)
    expect(merged[0]!.id).toBe('new')
  })

  it('prepends an older page and appends a newer one', () => {
    let list = mergeMessages([], [msg(51), msg(52)])
    list = mergeMessages(list, [msg(49), msg(50)])
    list = mergeMessages(list, [msg(53)])
    expect(list.map((m) => m.seq)).toEqual([49, 50, 51, 52, 53])
  })

  it('takes edits and deletes, and does not undo them with an older copy', () => {
    const original = msg(1, { content: 'hi' })
    const edited = msg(1, { content: 'hello', editedAt: '2026-11-23T11:00:00Z' })
    const deleted = msg(1, { content: null, deletedAt: '2026-11-23T12:00:00Z', editedAt: '2026-11-23T11:00:00Z' })
    let list = mergeMessages([original], [edited])
    expect(list[0]!.content).toBe('hello')
    list = mergeMessages(list, [original]) // a stale page arriving late
    expect(list[0]!.content).toBe('hello')
    list = mergeMessages(list, [deleted])
    expect(list[0]!.deletedAt).not.toBeNull()
    list = mergeMessages(list, [edited])
    expect(list[0]!.deletedAt).not.toBeNull()
  })

  it('never lowers the receipt status', () => {
    const read = msg(1, { status: 'read' })
    const stale = msg(1, { status: 'sent' })
    expect(newerVersion(read, stale).status).toBe('read')
    expect(mergeMessages([read], [stale])[0]!.status).toBe('read')
  })

  it('does not change the input lists', () => {
    const a = [msg(1)]
    mergeMessages(a, [msg(2)])
    expect(a).toHaveLength(1)
  })
})
