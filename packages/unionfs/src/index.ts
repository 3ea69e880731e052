export type { LayerSource, DataRef, ViewEntry, UnionView } from './types';
export { indexLayer } from './index-layer';
export type { IndexedEntry } from './index-layer';
export { unionView, openData } from './union-view';
export { directoryView } from './directory-view';
export { flatten, flattenEntries } from './flatten';
export type { FlattenOptions } from './flatten';
export { diffViews, compareEntries } from './diff';
export type { DiffOptions, DetailedChange, What } from './diff';
