/** Tests use the same scriptable TCP link as `rewind bench soak` (pause / resume / stall / delayMs). */
export { TcpForwarder } from '@rewind/local-services';
