// The "Now" page's live list: on each event of /now/stream, fetch the list's HTML
// again and swap it in, keep the focus where it was when that element is still
// there, and say "Alerts updated" to screen readers. EventSource reconnects by
// itself (resuming after the last event); a signed-out session goes to sign in.
const list = document.getElementById('now-alerts')
const status = document.getElementById('now-status')

if (list && 'EventSource' in window) {
  let fetching = null
  let again = false

  const signIn = () => { window.location.assign('/sign-in') }

  const focusKey = () => {
    const active = document.activeElement
    if (!active || !list.contains(active)) return null
    const item = active.closest('[data-alert-id]')
    if (!item) return null
    const all = Array.from(item.querySelectorAll('a, button'))
    return { id: item.dataset.alertId, index: all.indexOf(active) }
  }

  const restoreFocus = (key) => {
    if (!key) return
    const item = list.querySelector(`[data-alert-id="${CSS.escape(key.id)}"]`)
    if (!item) {
      list.setAttribute('tabindex', '-1')
      list.focus({ preventScroll: true })
      return
    }
    const all = item.querySelectorAll('a, button')
    const target = all[key.index] || all[0]
    if (target) target.focus({ preventScroll: true })
  }

  const refresh = async () => {
    if (fetching) { again = true; return }
    fetching = (async () => {
      do {
        again = false
        const response = await fetch(list.dataset.fragment, {
          credentials: 'same-origin', headers: { Accept: 'text/html' }, cache: 'no-store'
        })
        if (response.status === 401) { signIn(); return }
        if (!response.ok) return
        const html = await response.text()
        const key = focusKey()
        list.innerHTML = html
        restoreFocus(key)
        status.textContent = ''
        window.setTimeout(() => { status.textContent = 'Alerts updated' }, 50)
        list.dispatchEvent(new CustomEvent('lantern:updated', { bubbles: true }))
      } while (again)
    })()
    try { await fetching } catch (e) { /* the next event tries again */ } finally { fetching = null }
  }

  const stream = new EventSource(list.dataset.stream)
  stream.addEventListener('alert', refresh)
  stream.addEventListener('signed-out', () => { stream.close(); signIn() })
  // After a reconnection, events missed meanwhile are replayed from Last-Event-ID.
  document.documentElement.dataset.liveReady = 'true'
}
