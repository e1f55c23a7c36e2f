import { PlatformFactory } from '../core/types';

// Placeholder until the rgs simulator lands: answers nothing (the host replies 404).
export const createRgsSimulator: PlatformFactory = () => ({
  platform: 'rgs',
  handleHttp: () => false,
  handleUpgrade: () => false,
  close: async () => undefined,
});
