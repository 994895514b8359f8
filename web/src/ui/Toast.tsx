// A notice at the bottom of the screen: an error or info text that fades
// after a while (errors stay until dismissed or replaced).
import { useEffect, useState } from 'react';

export interface ToastMessage {
  readonly id: number;
  readonly kind: 'error' | 'info';
  readonly text: string;
}

export function Toast({ message, onDismiss }: { message: ToastMessage | null; onDismiss: () => void }) {
  const [shown, setShown] = useState<ToastMessage | null>(message);
  useEffect(() => {
    setShown(message);
    if (!message) return;
    const t = setTimeout(() => setShown(null), message.kind === 'error' ? 9000 : 3500);
    return () => clearTimeout(t);
  }, [message]);
  if (!shown) return null;
  return (
    <div className={`toast ${shown.kind}`} role={shown.kind === 'error' ? 'alert' : 'status'}>
      <span>{shown.text}</span>
      <button
        type="button"
        className="ghost"
        aria-label="Dismiss"
        onClick={() => {
          setShown(null);
          onDismiss();
        }}
      >
        ×
      </button>
    </div>
  );
}
