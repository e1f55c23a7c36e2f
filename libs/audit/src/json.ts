// Readers of recorded events, defined with the platform modules' audit checks that use them most.
export { asNumber, asObject, asString, jsonBody, jsonObject, metaOf, refOf } from '@rewind/platforms';
