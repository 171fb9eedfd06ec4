/*
 * Whisper's service worker: shows Web Push notifications and opens the chat they are about.
 * Served at /sw.js (from public/, not bundled), so its scope is the whole app. A plain script on
 * purpose: classic service workers run in every browser with Web Push.
 *
 * The server's payload (shared/API.md, "Push notifications"), decrypted by the browser:
 *   {"chatId":"…","messageId":"…","seq":12,"title":"Alice","body":"preview text","url":"/chats/<chatId>"}
 * tests/sw.test.ts runs this file in a sandbox.
 */
'use strict'

/** Only paths of this app are ever opened; anything else falls back to the chat or the app. */
function safePath(url, chatId) {
  if (typeof url === 'string' && url.startsWith('/') && !url.startsWith('//') && !url.includes('\\')) return url
  return chatId ? '/chats/' + encodeURIComponent(chatId) : '/'
}

function text(value, max) {
  return typeof value === 'string' && value.trim() ? value.slice(0, max) : ''
}

/** The server's payload (or whatever arrived) -> the arguments of registration.showNotification. */
function notificationFromPayload(payload) {
  const p = payload && typeof payload === 'object' ? payload : {}
  const chatId = typeof p.chatId === 'string' && p.chatId ? p.chatId : null
  const options = {
    body: text(p.body, 500) || 'New message',
    icon: '/favicon.svg',
    data: {
      url: safePath(p.url, chatId),
      chatId: chatId,
      messageId: typeof p.messageId === 'string' ? p.messageId : null,
      seq: typeof p.seq === 'number' ? p.seq : null,
    },
  }
  if (chatId) {
    // One notification per chat: a newer message replaces the older one, and still alerts.
    options.tag = chatId
    options.renotify = true
  }
  return { title: text(p.title, 200) || 'Whisper', options: options }
}

/** The push event's data as JSON, or a plain text body, or nothing. */
function readPayload(data) {
  if (!data) return null
  try {
    return data.json()
  } catch (e) {
    try {
      return { body: data.text() }
    } catch (e2) {
      return null
    }
  }
}

/** Focuses an open Whisper window and routes it to the chat, or opens a new window there. */
async function openChat(path) {
  const url = new URL(path, self.location.origin).href
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true })
  const ours = windows.filter((c) => new URL(c.url).origin === self.location.origin)
  const client = ours.find((c) => c.focused) || ours.find((c) => c.visibilityState === 'visible') || ours[0]
  if (!client) return self.clients.openWindow(url)
  // The app routes itself (no reload, the live connection stays); see src/push/index.ts.
  client.postMessage({ type: 'whisper:navigate', url: path })
  return client.focus()
}

self.addEventListener('install', () => {
  self.skipWaiting()
})

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim())
})

self.addEventListener('push', (event) => {
  const n = notificationFromPayload(readPayload(event.data))
  event.waitUntil(self.registration.showNotification(n.title, n.options))
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const data = event.notification.data || {}
  event.waitUntil(openChat(safePath(data.url, data.chatId)))
})
