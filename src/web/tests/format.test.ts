import { describe, expect, it } from 'vitest'
import { chatListTime, dayLabel, formatFileSize, initials, lastSeenText, messagePreview } from '@/lib/format'
import { withDaySeparators } from '@/lib/messages'
import { authorizedUrl, messageTypeFor } from '@/lib/files'

// The test environment pins TZ=UTC (vite.config.ts), so local days are UTC days here.
const NOW = new Date('2026-11-23T15:00:00Z') // a Monday

describe('initials', () => {
  it('takes the first letters of the first and last word', () => {
    expect(initials('Ada Lovelace')).toBe('AL')
    expect(initials('Ada King Lovelace')).toBe('AL')
  })
  it('splits usernames on _ . -', () => {
    expect(initials('bob_smith')).toBe('BS')
    expect(initials('jane.doe')).toBe('JD')
  })
  it('uses one letter for one word, upper-cased', () => {
    expect(initials('alice')).toBe('A')
  })
  it('keeps emoji and accented letters whole', () => {
    expect(initials('Émile Zola')).toBe('ÉZ')
    expect(initials('🐱 Cat')).toBe('🐱C')
  })
  it('falls back to ? for empty names', () => {
    expect(initials('')).toBe('?')
    expect(initials('   ')).toBe('?')
    expect(initials(null)).toBe('?')
  })
})

describe('formatFileSize', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1023, '1023 B'],
    [1024, '1 KB'],
    [1536, '1.5 KB'],
    [10 * 1024, '10 KB'],
    [5.25 * 1024 * 1024, '5.3 MB'],
    [120 * 1024 * 1024, '120 MB'],
    [1.2 * 1024 ** 3, '1.2 GB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatFileSize(bytes)).toBe(text)
  })
  it('gives nothing for nonsense', () => {
    expect(formatFileSize(-1)).toBe('')
    expect(formatFileSize(Number.NaN)).toBe('')
  })
})

describe('dayLabel', () => {
  it('says Today and Yesterday', () => {
    expect(dayLabel('2026-11-23T00:10:00Z', NOW, 'en-US')).toBe('Today')
    expect(dayLabel('2026-11-22T23:59:00Z', NOW, 'en-US')).toBe('Yesterday')
  })
  it('names the weekday within the last week', () => {
    expect(dayLabel('2026-11-19T12:00:00Z', NOW, 'en-US')).toBe('Thursday')
  })
  it('gives the date beyond a week, with the year only when it differs', () => {
    expect(dayLabel('2026-11-02T12:00:00Z', NOW, 'en-US')).toBe('November 2')
    expect(dayLabel('2025-12-31T12:00:00Z', NOW, 'en-US')).toBe('December 31, 2025')
  })
})

describe('chatListTime', () => {
  it('shows the time today, Yesterday, a weekday, then a date', () => {
    expect(chatListTime('2026-11-23T09:05:00Z', NOW, 'en-GB')).toBe('09:05')
    expect(chatListTime('2026-11-22T09:05:00Z', NOW, 'en-GB')).toBe('Yesterday')
    expect(chatListTime('2026-11-20T09:05:00Z', NOW, 'en-GB')).toBe('Fri')
    expect(chatListTime('2026-10-01T09:05:00Z', NOW, 'en-GB')).toBe('1 Oct')
  })
})

describe('withDaySeparators', () => {
  it('puts one separator before each new day', () => {
    const items = [
      { id: 'a', createdAt: '2026-11-22T10:00:00Z' },
      { id: 'b', createdAt: '2026-11-22T23:00:00Z' },
      { id: 'c', createdAt: '2026-11-23T08:00:00Z' },
      { id: 'd', createdAt: '2026-11-23T09:00:00Z' },
    ]
    const rows = withDaySeparators(items, (i) => i.id, NOW, 'en-US')
    expect(rows.map((r) => (r.kind === 'day' ? `[${r.label}]` : r.item.id))).toEqual(['[Yesterday]', 'a', 'b', '[Today]', 'c', 'd'])
  })
  it('gives separators unique keys per day', () => {
    const rows = withDaySeparators([{ id: 'a', createdAt: '2026-11-01T10:00:00Z' }], (i) => i.id, NOW)
    expect(rows[0]).toMatchObject({ kind: 'day', key: 'day-2026-11-01' })
  })
  it('gives nothing for no items', () => {
    expect(withDaySeparators([], () => '', NOW)).toEqual([])
  })
})

describe('lastSeenText', () => {
  it('says online', () => {
    expect(lastSeenText({ online: true, lastSeenAt: null }, NOW)).toBe('online')
  })
  it('says "recently" when privacy hides the time', () => {
    expect(lastSeenText({ online: null, lastSeenAt: null }, NOW)).toBe('last seen recently')
    expect(lastSeenText({ online: false, lastSeenAt: null }, NOW)).toBe('last seen recently')
  })
  it('words recent times', () => {
    expect(lastSeenText({ online: false, lastSeenAt: '2026-11-23T14:59:30Z' }, NOW)).toBe('last seen just now')
    expect(lastSeenText({ online: false, lastSeenAt: '2026-11-23T14:59:00Z' }, NOW)).toBe('last seen 1 minute ago')
    expect(lastSeenText({ online: false, lastSeenAt: '2026-11-23T14:15:00Z' }, NOW)).toBe('last seen 45 minutes ago')
  })
  it('words older times with the day', () => {
    expect(lastSeenText({ online: false, lastSeenAt: '2026-11-23T09:30:00Z' }, NOW, 'en-GB')).toBe('last seen today at 09:30')
    expect(lastSeenText({ online: false, lastSeenAt: '2026-11-22T21:00:00Z' }, NOW, 'en-GB')).toBe('last seen yesterday at 21:00')
    expect(lastSeenText({ online: false, lastSeenAt: '2026-11-03T08:00:00Z' }, NOW, 'en-GB')).toBe('last seen 3 Nov at 08:00')
    expect(lastSeenText({ online: false, lastSeenAt: '2025-11-03T08:00:00Z' }, NOW, 'en-GB')).toBe('last seen 3 Nov 2025 at 08:00')
  })
  it('is empty without data', () => {
    expect(lastSeenText(null, NOW)).toBe('')
  })
})

describe('messagePreview', () => {
  const base = { content: null, file: null, type: 'text', deletedAt: null }
  it('flattens whitespace', () => {
    expect(messagePreview({ ...base, content: ' hello\n  world ' })).toBe('hello world')
  })
  it('names attachments', () => {
    expect(messagePreview({ ...base, type: 'image', file: { name: 'cat.png' } })).toBe('🖼 cat.png')
    expect(messagePreview({ ...base, type: 'file', file: { name: 'a.pdf' } })).toBe('📎 a.pdf')
  })
  it('says deleted', () => {
    expect(messagePreview({ ...base, content: 'x', deletedAt: '2026-01-01T00:00:00Z' })).toBe('Message deleted')
  })
})

describe('files', () => {
  it('picks the message type from the content type', () => {
    expect(messageTypeFor('image/png')).toBe('image')
    expect(messageTypeFor('video/mp4')).toBe('video')
    expect(messageTypeFor('audio/ogg')).toBe('audio')
    expect(messageTypeFor('application/pdf')).toBe('file')
  })
  it('adds the token to file URLs', () => {
    expect(authorizedUrl('/api/files/f1', 'a b')).toBe('/api/files/f1?access_token=a%20b')
    expect(authorizedUrl('/api/files/f1?x=1', 't')).toBe('/api/files/f1?x=1&access_token=t')
    expect(authorizedUrl('/api/files/f1', null)).toBe('/api/files/f1')
  })
})
