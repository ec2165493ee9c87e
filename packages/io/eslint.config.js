import dale from "@dale/eslint-config";

// The main entry must bundle for a browser: only src/fs.ts (behind "@dale/io/node") and the tests may use Node.
export default [
  ...dale,
  {
    files: ["src/**/*.ts"],
    ignores: ["src/fs.ts", "src/node.ts", "src/**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["node:*"], message: "Node built-ins belong in src/fs.ts (\"@dale/io/node\")." }] }],
      "no-restricted-globals": ["error", "Buffer", "process", "__dirname", "__filename"],
    },
  },
];
