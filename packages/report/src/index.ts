export { imageModel } from './image-model';
export type { ImageModel, ModelLayer, FileVersion, ReportInput, ReportLayerInput } from './image-model';
export { renderTreemapSvg, treemapRects, layerColor } from './treemap';
export type { TreemapOptions, TreemapRect } from './treemap';
export { renderHtmlReport, renderLayerBars } from './html-report';
export { createBrowser, handleKey, initialState, renderScreen } from './browser';
export type { Browser, BrowserState, Key, Mark, TreeRow } from './browser';
