export type { Image } from './types';
