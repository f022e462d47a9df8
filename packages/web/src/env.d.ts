/// <reference lib="dom" />
/// <reference lib="dom.iterable" />

// Single-file components, for TypeScript outside vue-tsc (the repository's `tsc` type-checks
// the .ts files; vue-tsc checks the .vue files in this package's build).
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

// Stylesheets imported for their side effect (Vite bundles them).
declare module '*.css';
