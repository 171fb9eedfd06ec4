/**
 * Web Push: the place where notifications will be wired in (not built yet).
 *
 * The plan, following shared/API.md:
 *  1. Register a service worker (public/sw.js) that handles `push` events with
 *     `self.registration.showNotification(...)` and `notificationclick` by focusing or opening
 *     `/chats/{chatId}`.
 *  2. After login, when `Notification.permission` is granted (ask from a user gesture, e.g. a
 *     "Turn on notifications" button in the sidebar), fetch `GET /api/push/public-key` and call
 *     `registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey })`.
 *  3. Send `subscription.toJSON()` to `POST /api/push/subscriptions`; on logout call
 *     `DELETE /api/push/subscriptions` with `{ endpoint }` and `subscription.unsubscribe()`.
 *
 * The app calls these two hooks already, so only this file (and the worker) need to change.
 */
export async function enablePushAfterLogin(): Promise<void> {
  // Intentionally empty until Web Push is built.
}

export async function disablePushBeforeLogout(): Promise<void> {
  // Intentionally empty until Web Push is built.
}
