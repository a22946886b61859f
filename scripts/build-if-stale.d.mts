// Types of build-if-stale.mjs (plain JavaScript, so `npm start` checks dist/ without the TypeScript loader).
/** dist/build.json: written last by a build. */
export declare const STAMP: string;
/** dist/workflow-bundle.js: the prebuilt workflow bundle. */
export declare const WORKFLOW_BUNDLE: string;
/** True when dist/ is missing or older than a source file. */
export declare function distIsStale(): boolean;
