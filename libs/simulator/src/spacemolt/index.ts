import { PlatformFactory } from '../core/types';

// Placeholder until the spacemolt simulator lands: answers nothing (the host replies 404).
export const createSpaceMoltSimulator: PlatformFactory = () => ({
  platform: 'spacemolt',
  handleHttp: () => false,
  handleUpgrade: () => false,
  close: async () => undefined,
});
