// A graph node with typed ports: inputs as handles on the left, outputs on the
// right. Used by the pipeline editor for operation instances, and meant for
// the architecture editor's layers too (anything with named in/out ports).
//
// Decorations: a run status (colours the node), the selections of other
// collaborators (an outline in the first one's colour, their names as tags),
// an error (red border, the message on hover) and extra text lines under the
// ports (an architecture's expanded block).
import { Handle, Position, useUpdateNodeInternals, type Node, type NodeProps } from '@xyflow/react';
import { memo, useEffect, useRef, type CSSProperties } from 'react';

export interface PortSpec {
  readonly id: string;
  readonly label: string;
  readonly dataType?: string;
}

export interface RemoteMark {
  readonly colour: string;
  readonly name: string;
}

export type PortNodeData = {
  readonly title: string;
  readonly subtitle?: string;
  readonly inputs: readonly PortSpec[];
  readonly outputs: readonly PortSpec[];
  /** A run state (pending, running, succeeded, …): colours the node. */
  readonly status?: string | undefined;
  readonly remote?: readonly RemoteMark[];
  readonly readOnly?: boolean;
  /** A problem with this node: red border, the message as its tooltip. */
  readonly error?: string | undefined;
  /** Text lines under the ports (monospace), e.g. the layers of a block. */
  readonly lines?: readonly string[] | undefined;
  /** Data flows top to bottom: inputs on the top edge, outputs on the bottom (architectures). */
  readonly vertical?: boolean | undefined;
};

export type PortFlowNode = Node<PortNodeData, 'port'>;

export const PORT_ROW_HEIGHT = 24;
export const NODE_HEADER_HEIGHT = 46;
export const NODE_WIDTH = 220;

/** The height a node with these ports will have (for layout before measuring). */
export function estimatedNodeHeight(inputs: number, outputs: number, lines = 0): number {
  return NODE_HEADER_HEIGHT + Math.max(1, Math.max(inputs, outputs)) * PORT_ROW_HEIGHT + 12 + (lines > 0 ? lines * 17 + 10 : 0);
}

/** The height of a vertical node: header, named-port rows, lines. */
export function verticalNodeHeight(inputs: number, outputs: number, lines = 0): number {
  return 44 + (inputs > 1 ? 16 : 0) + (outputs > 1 ? 16 : 0) + (lines > 0 ? lines * 17 + 10 : 0);
}

/**
 * React Flow measures a node's handles when the node mounts or resizes. Ports
 * added, removed or re-identified without a size change (a collaborator's
 * edit, a port that arrives just after its node) would leave it with stale
 * handle positions, and an edge to a handle it has not measured is silently
 * not drawn. So: re-measure whenever the set of handles changes.
 */
function useRemeasureOnHandleChange(id: string, data: PortNodeData) {
  const updateNodeInternals = useUpdateNodeInternals();
  const key = `${data.inputs.map((p) => p.id).join(',')}|${data.outputs.map((p) => p.id).join(',')}`;
  const last = useRef(key);
  useEffect(() => {
    if (last.current === key) return; // mounting: React Flow measures anyway
    last.current = key;
    updateNodeInternals(id);
  }, [id, key, updateNodeInternals]);
}

/** Handles spread along one edge; names shown only when there are several. */
function EdgeHandles({ ports, type, readOnly }: { ports: readonly PortSpec[]; type: 'source' | 'target'; readOnly: boolean }) {
  const position = type === 'target' ? Position.Top : Position.Bottom;
  return (
    <>
      {ports.length > 1 && (
        <div className={`port-edge-labels ${type === 'target' ? 'top' : 'bottom'}`}>
          {ports.map((p) => (
            <span key={p.id}>{p.label}</span>
          ))}
        </div>
      )}
      {ports.map((p, i) => (
        <Handle
          key={p.id}
          type={type}
          position={position}
          id={p.id}
          className="port-handle"
          style={{ left: `${((i + 0.5) / ports.length) * 100}%` }}
          isConnectable={!readOnly}
          title={`${p.label}: ${p.dataType ?? 'any'}`}
        />
      ))}
    </>
  );
}

function PortNodeView({ id, data, selected }: NodeProps<PortFlowNode>) {
  useRemeasureOnHandleChange(id, data);
  if (data.vertical) return <VerticalNode data={data} selected={selected} />;
  const rows = Math.max(data.inputs.length, data.outputs.length);
  const remote = data.remote ?? [];
  const outline = remote[0]?.colour;
  const cls = [
    'port-node',
    data.status ? `status-${data.status}` : '',
    selected ? 'selected' : '',
    outline ? 'remote-selected' : '',
    data.error ? 'has-error' : '',
  ]
    .filter(Boolean)
    .join(' ');
  return (
    <div
      className={cls}
      style={outline ? ({ '--remote': outline } as CSSProperties) : undefined}
      data-testid="graph-node"
      data-title={data.title}
      data-status={data.status ?? ''}
      data-error={data.error ?? undefined}
      title={data.error}
    >
      {remote.length > 0 && (
        <div className="remote-tags">
          {remote.map((r) => (
            <span key={r.name + r.colour} className="remote-tag" style={{ background: r.colour }}>
              {r.name}
            </span>
          ))}
        </div>
      )}
      <div className="port-node-head">
        <span className="port-node-title">{data.title}</span>
        {data.status && <span className={`status-pill ${data.status}`}>{data.status}</span>}
        {!data.status && data.subtitle && <span className="port-node-subtitle">{data.subtitle}</span>}
        {data.error && (
          <span className="port-node-error-mark" aria-label={`Error: ${data.error}`}>
            !
          </span>
        )}
      </div>
      <div className="port-node-body">
        {rows === 0 && <div className="port-row empty">no ports</div>}
        {Array.from({ length: rows }, (_, i) => {
          const input = data.inputs[i];
          const output = data.outputs[i];
          return (
            <div className="port-row" key={i}>
              <span className="port in">
                {input && (
                  <>
                    <Handle
                      type="target"
                      position={Position.Left}
                      id={input.id}
                      className="port-handle"
                      isConnectable={!data.readOnly}
                      title={`${input.label}: ${input.dataType ?? 'any'}`}
                    />
                    {input.label}
                  </>
                )}
              </span>
              <span className="port out">
                {output && (
                  <>
                    {output.label}
                    <Handle
                      type="source"
                      position={Position.Right}
                      id={output.id}
                      className="port-handle"
                      isConnectable={!data.readOnly}
                      title={`${output.label}: ${output.dataType ?? 'any'}`}
                    />
                  </>
                )}
              </span>
            </div>
          );
        })}
      </div>
      {data.lines && data.lines.length > 0 && (
        <div className="port-node-lines" data-testid="node-lines">
          {data.lines.map((l, i) => (
            <div key={i}>{l}</div>
          ))}
        </div>
      )}
    </div>
  );
}

function nodeClass(data: PortNodeData, selected: boolean | undefined, extra = ''): string {
  return [
    'port-node',
    extra,
    data.status ? `status-${data.status}` : '',
    selected ? 'selected' : '',
    data.remote?.[0] ? 'remote-selected' : '',
    data.error ? 'has-error' : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** Top-to-bottom: the architecture editor's layers. */
function VerticalNode({ data, selected }: { data: PortNodeData; selected: boolean | undefined }) {
  const remote = data.remote ?? [];
  const outline = remote[0]?.colour;
  return (
    <div
      className={nodeClass(data, selected, 'vertical')}
      style={outline ? ({ '--remote': outline } as CSSProperties) : undefined}
      data-testid="graph-node"
      data-title={data.title}
      data-status={data.status ?? ''}
      data-error={data.error ?? undefined}
      title={data.error}
    >
      {remote.length > 0 && (
        <div className="remote-tags">
          {remote.map((r) => (
            <span key={r.name + r.colour} className="remote-tag" style={{ background: r.colour }}>
              {r.name}
            </span>
          ))}
        </div>
      )}
      <EdgeHandles ports={data.inputs} type="target" readOnly={data.readOnly === true} />
      <div className="port-node-head">
        <span className="port-node-title">{data.title}</span>
        {data.subtitle && <span className="port-node-subtitle">{data.subtitle}</span>}
        {data.error && (
          <span className="port-node-error-mark" aria-label={`Error: ${data.error}`}>
            !
          </span>
        )}
      </div>
      {data.lines && data.lines.length > 0 && (
        <div className="port-node-lines" data-testid="node-lines">
          {data.lines.map((l, i) => (
            <div key={i}>{l}</div>
          ))}
        </div>
      )}
      <EdgeHandles ports={data.outputs} type="source" readOnly={data.readOnly === true} />
    </div>
  );
}

export const PortNode = memo(PortNodeView);
export const nodeTypes = { port: PortNode };
