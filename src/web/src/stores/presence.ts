import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import { api } from '@/api'
import type { LastSeen } from '@/api/types'

/** A typing event lasts this long unless renewed; senders repeat it every few seconds while typing. */
export const TYPING_TTL_MS = 6_000

export interface Presence {
  online: boolean | null
  lastSeenAt: string | null
}

/** Who is online, when others were last seen, and who is typing where. */
export const usePresenceStore = defineStore('presence', () => {
  const byUser = reactive<Record<string, Presence>>({})
  /** chatId -> userId -> time (ms) the typing indicator expires. */
  const typing = reactive<Record<string, Record<string, number>>>({})
  /** Bumped by a timer so views re-evaluate expiry without watching the clock themselves. */
  const clock = ref(Date.now())
  let sweeper: ReturnType<typeof setInterval> | undefined

  function set(userId: string, p: Presence) {
    byUser[userId] = { online: p.online, lastSeenAt: p.lastSeenAt }
  }

  async function fetch(userId: string): Promise<void> {
    const r: LastSeen = await api.lastSeen(userId)
    set(userId, r)
  }

  function onPresenceChanged(e: { userId: string; online: boolean | null; lastSeenAt: string | null }) {
    set(e.userId, e)
    if (e.online === false) for (const chatId of Object.keys(typing)) clearTyping(chatId, e.userId)
  }

  function onTyping(e: { chatId: string; userId: string }, now = Date.now()) {
    ;(typing[e.chatId] ??= {})[e.userId] = now + TYPING_TTL_MS
    clock.value = now
    sweeper ??= setInterval(sweep, 1_000)
  }

  function clearTyping(chatId: string, userId: string) {
    const t = typing[chatId]
    if (t && userId in t) delete t[userId]
  }

  function sweep() {
    const now = Date.now()
    clock.value = now
    let any = false
    for (const [chatId, users] of Object.entries(typing)) {
      for (const [userId, until] of Object.entries(users)) {
        if (until <= now) clearTyping(chatId, userId)
        else any = true
      }
    }
    if (!any) {
      clearInterval(sweeper)
      sweeper = undefined
    }
  }

  /** Users typing in a chat right now (excluding expired ones). */
  function typingIn(chatId: string): string[] {
    const now = clock.value
    const t = typing[chatId]
    return t ? Object.keys(t).filter((id) => t[id]! > now) : []
  }

  function reset() {
    for (const k of Object.keys(byUser)) delete byUser[k]
    for (const k of Object.keys(typing)) delete typing[k]
  }

  return { byUser, typing, clock, fetch, set, onPresenceChanged, onTyping, clearTyping, typingIn, sweep, reset }
})
