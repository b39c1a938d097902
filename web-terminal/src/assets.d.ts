// esbuild bundles imported stylesheets into client.css.
declare module '*.css';
