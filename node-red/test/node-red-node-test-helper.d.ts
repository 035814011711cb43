// The few parts of node-red-node-test-helper the tests use (it ships no types).
declare module 'node-red-node-test-helper' {
  interface HelperNode {
    on<T>(event: 'input', listener: (msg: T) => void): void;
    status(status: { fill?: string; shape?: string; text?: string }): void;
    warn(message: unknown): void;
  }
  interface NodeRedTestHelper {
    init(nodeRedRuntime: string, userSettings?: Record<string, unknown>): void;
    startServer(done: () => void): void;
    stopServer(done: () => void): void;
    load(nodes: unknown[], flow: object[], credentials?: Record<string, Record<string, string>>): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): HelperNode;
  }
  const helper: NodeRedTestHelper;
  export default helper;
}
