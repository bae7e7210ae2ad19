// Who is signed in: the sign-in panel, the "signed in as" bar with its sign-out button, and which
// parts of the page a role sees. The session itself is the server's HttpOnly cookie; the page keeps
// only what GET /api/session said about it, never a token.

import { looksLikeId } from './customer.js';
import { byTestId, el, setInvalid, shortId } from './ui.js';

/**
 * The session's part of the page. Intents go to the handlers:
 * onSignIn({ role: 'operator' } | { customerId }), onSignOut(), onSwitchToCustomer().
 * Each returns a promise; its button stays disabled until it settles.
 */
export function createSessionView({ onSignIn, onSignOut, onSwitchToCustomer }) {
  const panel = byTestId('sign-in-panel');
  const message = byTestId('sign-in-message');
  const customerInput = byTestId('sign-in-customer-id');
  const bar = byTestId('session');
  const who = byTestId('session-who');
  const switchButton = byTestId('sign-in-as-customer');

  async function whileBusy(button, action) {
    if (button.disabled) return;
    const buttons = [byTestId('sign-in-operator'), byTestId('sign-in-customer'), byTestId('sign-out'), switchButton];
    buttons.forEach((b) => { b.disabled = true; });
    button.setAttribute('aria-busy', 'true');
    try {
      await action();
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
      button.removeAttribute('aria-busy');
    }
  }

  function say(text) {
    message.textContent = text ?? '';
    message.hidden = !text;
  }

  byTestId('sign-in-operator').addEventListener('click', (event) =>
    whileBusy(event.currentTarget, () => onSignIn({ role: 'operator' })));

  byTestId('sign-in-customer-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = customerInput.value.trim();
    const bad = !looksLikeId(id);
    setInvalid(customerInput, bad);
    if (bad) {
      say('Enter your customer id: a UUID like 3f2c9a1e-5b7d-4c1a-9e2f-0a1b2c3d4e5f.');
      customerInput.focus();
      return;
    }
    whileBusy(byTestId('sign-in-customer'), () => onSignIn({ customerId: id }));
  });

  byTestId('sign-out').addEventListener('click', (event) => whileBusy(event.currentTarget, onSignOut));
  switchButton.addEventListener('click', (event) => whileBusy(event.currentTarget, onSwitchToCustomer));

  return {
    /** Shows the sign-in panel (and nothing of the signed-in page), with a reason when there is one. */
    showSignedOut(reason) {
      byTestId('session-checking').hidden = true;
      byTestId('workspace').hidden = true;
      byTestId('connection-state').closest('.connection').hidden = true;
      bar.hidden = true;
      who.textContent = '';
      who.dataset.role = '';
      who.dataset.customerId = '';
      switchButton.hidden = true;
      panel.hidden = false;
      say(reason);
      setInvalid(customerInput, false);
      byTestId('sign-in-heading').focus();
    },

    /** A sign-in that did not work: the panel stays, with the reason. */
    signInFailed(reason) {
      say(reason);
    },

    /** Shows the page for this session: { role, customerId, development }. */
    showSignedIn(session) {
      const operator = session.role === 'operator';
      byTestId('session-checking').hidden = true;
      panel.hidden = true;
      say('');
      customerInput.value = '';
      bar.hidden = false;
      byTestId('workspace').hidden = false;
      byTestId('connection-state').closest('.connection').hidden = false;
      who.dataset.role = session.role;
      who.dataset.customerId = session.customerId ?? '';
      this.setCustomerName(null);
      // Only an operator creates customers; recent customers are an operator's (main.js fills them in).
      byTestId('create-customer-section').hidden = !operator;
      if (!operator) byTestId('recent-customers-field').hidden = true;
    },

    /** Names the signed-in customer once its card is known. */
    setCustomerName(name) {
      who.removeAttribute('title');
      if (who.dataset.role === 'operator') {
        who.textContent = 'Signed in as operator';
      } else if (who.dataset.role === 'customer') {
        const id = who.dataset.customerId;
        // The id part gives way on a narrow screen; the card shows the whole id anyway.
        who.replaceChildren(...(name
          ? ['Signed in as ', el('strong', { text: name }), el('span', { class: 'session__id', text: ` (customer ${shortId(id)})` })]
          : [`Signed in as customer ${shortId(id)}`]));
        who.title = `Customer ${id}`;
      }
    },

    /** The "sign in as this customer" shortcut: for an operator looking at a customer, in development mode. */
    offerSwitch(available) {
      switchButton.hidden = !available;
    },
  };
}
