/** Cache Storage names shared by the page and the service worker. */
export const ORT_RUNTIME_CACHE = 'gesso-ort-runtime';
