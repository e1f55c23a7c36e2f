import { PlatformFactory } from '../core/types';

// Placeholder until the moltstation simulator lands: answers nothing (the host replies 404).
export const createMoltStationSimulator: PlatformFactory = () => ({
  platform: 'moltstation',
  handleHttp: () => false,
  handleUpgrade: () => false,
  close: async () => undefined,
});
