/** The board's mark: four agents, most of them well. */
export function Logo() {
  return (
    <svg class="logo" viewBox="0 0 32 32" width="24" height="24" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" fill="#0f172a" />
      <circle cx="11" cy="11" r="4" fill="#16a34a" />
      <circle cx="21" cy="11" r="4" fill="#3b82f6" />
      <circle cx="11" cy="21" r="4" fill="#d97706" />
      <circle cx="21" cy="21" r="4" fill="#16a34a" />
    </svg>
  );
}
