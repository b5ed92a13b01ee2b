// The token lives in sessionStorage: it survives a reload of this tab and is gone when the tab is
// closed. Signing out removes it.
const KEY = 'fleet-board.token';

export const readToken = (): string | null => sessionStorage.getItem(KEY);
export const saveToken = (token: string): void => sessionStorage.setItem(KEY, token);
export const clearToken = (): void => sessionStorage.removeItem(KEY);
