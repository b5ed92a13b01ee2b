// Preact core has no memo() (preact/compat does, with all of compat): a component that re-renders
// only when a prop changes identity. The normalized cache hands back the same object for an entity
// that did not change, so a row whose workspace did not change is skipped.
import { Component, type ComponentChildren } from 'preact';

export function memo<P extends object>(render: (props: P) => ComponentChildren) {
  return class Memo extends Component<P> {
    shouldComponentUpdate(next: P): boolean {
      const a = this.props as Record<string, unknown>;
      const b = next as Record<string, unknown>;
      for (const k in b) if (a[k] !== b[k]) return true;
      for (const k in a) if (!(k in b)) return true;
      return false;
    }
    render(props: P) {
      return render(props);
    }
  };
}
