// Identifier rules shared by server, SDK and UI. Kept apart from the schemas so importing them
// does not pull the schema library into a browser bundle.

/** Room ids: letters, digits and `_ . : -`, 1–64 characters, starting with a letter or digit. */
export const ROOM_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$';
