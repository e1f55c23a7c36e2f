import { PlatformFactory } from '../core/types';

// Placeholder until the cloudplay simulator lands: answers nothing (the host replies 404).
export const createCloudplaySimulator: PlatformFactory = () => ({
  platform: 'cloudplay',
  handleHttp: () => false,
  handleUpgrade: () => false,
  close: async () => undefined,
});
