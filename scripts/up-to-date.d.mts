export declare function fingerprint(root: string, inputs: string[]): string;
export declare function unlessUpToDate(
  name: string,
  options: { root: string; cacheDir: string; inputs: string[]; outputs: string[]; force?: boolean },
  step: () => void,
): boolean;
