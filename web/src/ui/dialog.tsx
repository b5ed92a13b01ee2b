// A modal dialog on the native <dialog>: showModal() makes the rest of the page inert (focus stays
// inside), Escape closes it, and focus goes back to what opened it.
import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';

interface DialogProps {
  title: string;
  onClose(): void;
  children: ComponentChildren;
  /** Buttons, right-aligned under the content. */
  actions: ComponentChildren;
  role?: 'dialog' | 'alertdialog';
}

export function Dialog({ title, onClose, children, actions, role = 'dialog' }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  // A layout effect runs in the task of the click that opened the dialog; a plain effect waits for the
  // next paint, and a live update landing meanwhile can re-order the table and take focus from the
  // opener, which then would not be found to hand focus back to.
  useLayoutEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    // First field, else the first button that is not "Cancel": the likely next step.
    const first = dialog.querySelector<HTMLElement>('input, textarea, [data-autofocus]') ?? dialog.querySelector<HTMLElement>('button');
    first?.focus();
    return () => {
      dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      role={role}
      aria-labelledby="dialog-title"
      class="dialog"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2 id="dialog-title">{title}</h2>
      <div class="dialog-body">{children}</div>
      <div class="dialog-actions">{actions}</div>
    </dialog>
  );
}
