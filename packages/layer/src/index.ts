export type { Layer, Change, ByteStream, Opener } from './types';
