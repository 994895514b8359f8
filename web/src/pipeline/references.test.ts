import { describe, expect, it } from 'vitest';
import { libIds, libraryOps } from '../architecture/testing';
import { applyOps, type Op, type Tree } from '../model';
import { create, g, ids, sampleTree } from '../model/testing';
import { pipelineGraph } from './model';
import { architectureHref } from './ReferencePicker';
import {
  codeReferences,
  instanceReferences,
  referenceLines,
  referenceType,
  resourceChoices,
  setReferenceLabel,
  setReferenceOps,
} from './references';

const TRAIN_CODE = `import kiln

class Train(kiln.Operation):
    """Trains the network."""

    def __init__(self, net: kiln.Architecture, epochs=15, shape: tuple = (1, 2),
                 note="a, b: kiln.Architecture"):  # a comment (with a paren
        self.net = net

    def execute(self, data, labels):
        return model
`;

const arch1 = g(0x50);
const arch2 = g(0x51);
const notArch = g(0x52);

/** The sample tree with the library, two architectures (Zeta, DigitsCNN) and Train's code declaring `net`. */
function withArchitectures(extra: Op[] = []): Tree {
  return applyOps(sampleTree(), [
    ...libraryOps(),
    create(arch1, ids.root, libIds.Architecture, { name: 'Zeta' }),
    create(arch2, ids.root, libIds.Architecture, { name: 'DigitsCNN' }),
    create(notArch, ids.root, ids.Folder, { name: 'Architecture' }),
    { op: 'set_attr', node: ids.Train, name: 'code', value: TRAIN_CODE },
    ...extra,
  ]);
}

describe('codeReferences', () => {
  it('reads the parameters of __init__ annotated with a resource type, in order', () => {
    expect(codeReferences(TRAIN_CODE)).toEqual([{ name: 'net', type: 'Architecture' }]);
    const two = 'class S(kiln.Operation):\n    def __init__(self, b: "kiln.Architecture", *, a: Architecture = None):\n        pass\n';
    expect(codeReferences(two)).toEqual([
      { name: 'b', type: 'Architecture' },
      { name: 'a', type: 'Architecture' },
    ]);
  });

  it('finds none in code without references, without __init__, or that is not a string', () => {
    expect(codeReferences('class S(kiln.Operation):\n    def __init__(self, seed: int = 0): ...\n')).toEqual([]);
    expect(codeReferences('class S(kiln.Operation):\n    def execute(self, net: kiln.Architecture): ...\n')).toEqual([]);
    expect(codeReferences(undefined)).toEqual([]);
    expect(codeReferences(42)).toEqual([]);
  });

  it('knows only the library resource types', () => {
    expect(referenceType(' kiln.Architecture ')).toBe('Architecture');
    expect(referenceType("'Architecture'")).toBe('Architecture');
    expect(referenceType('nn.Module')).toBeNull();
    expect(referenceType('kiln.Architectures')).toBeNull();
  });
});

describe('references of an instance', () => {
  it('lists the project architectures by name, not the meta type nor other nodes', () => {
    const t = withArchitectures();
    expect(resourceChoices(t, 'Architecture')).toEqual([
      { guid: arch2, name: 'DigitsCNN' },
      { guid: arch1, name: 'Zeta' },
    ]);
    expect(resourceChoices(sampleTree(), 'Architecture')).toEqual([]); // no library
  });

  it('warns about an unset reference, and not about a set one', () => {
    const t = withArchitectures();
    expect(instanceReferences(t, ids.train)).toEqual([
      { name: 'net', type: 'Architecture', target: null, targetName: null, problem: "Train needs an architecture for 'net'" },
    ]);
    expect(instanceReferences(t, ids.load)).toEqual([]); // Load's code declares none
    const named = applyOps(t, [{ op: 'set_attr', node: ids.train, name: 'name', value: 'Train 2' }]);
    expect(instanceReferences(named, ids.train)[0]!.problem).toBe("Train 2 needs an architecture for 'net'");
    const set = applyOps(t, setReferenceOps(t, ids.train, 'net', arch2));
    expect(instanceReferences(set, ids.train)).toEqual([
      { name: 'net', type: 'Architecture', target: arch2, targetName: 'DigitsCNN', problem: null },
    ]);
  });

  it('says when the target is not an architecture or is gone', () => {
    const t = withArchitectures([{ op: 'set_pointer', node: ids.train, name: 'net', target: notArch }]);
    expect(instanceReferences(t, ids.train)[0]!.problem).toBe(
      "'net' of Train points at Architecture, which is not an architecture",
    );
    const gone = applyOps(withArchitectures([{ op: 'set_pointer', node: ids.train, name: 'net', target: arch1 }]), [
      { op: 'delete', node: arch1 },
    ]);
    const r = instanceReferences(gone, ids.train)[0]!;
    // The server clears pointers to a deleted node; either way the reference needs a new target.
    expect(r.problem).not.toBeNull();
  });

  it('makes one set_pointer op (null clears), none when nothing changes', () => {
    const t = withArchitectures();
    expect(setReferenceOps(t, ids.train, 'net', arch2)).toEqual([{ op: 'set_pointer', node: ids.train, name: 'net', target: arch2 }]);
    expect(setReferenceOps(t, ids.train, 'net', null)).toEqual([]);
    const set = applyOps(t, setReferenceOps(t, ids.train, 'net', arch2));
    expect(setReferenceOps(set, ids.train, 'net', arch2)).toEqual([]);
    expect(setReferenceOps(set, ids.train, 'net', null)).toEqual([{ op: 'set_pointer', node: ids.train, name: 'net', target: null }]);
    expect(setReferenceLabel(set, ids.train, 'net', arch1)).toBe('Point net of Train at Zeta');
    expect(setReferenceLabel(set, ids.train, 'net', null)).toBe('Clear net of Train');
  });

  it('shows the reference on the canvas node', () => {
    const t = withArchitectures();
    expect(referenceLines(t, ids.train)).toEqual(['net → not set']);
    const set = applyOps(t, setReferenceOps(t, ids.train, 'net', arch2));
    const node = pipelineGraph(set, ids.pipe).nodes.find((n) => n.id === ids.train)!;
    expect(node.references).toEqual(['net → DigitsCNN']);
    expect(pipelineGraph(set, ids.pipe).nodes.find((n) => n.id === ids.load)!.references).toEqual([]);
  });
});

describe('architectureHref', () => {
  it('opens the architecture in the project, branch and commit of the page', () => {
    expect(architectureHref(arch2, `#/p/digits/pipeline/${ids.pipe}?branch=dev`)).toBe(`#/p/digits/architecture/${arch2}?branch=dev`);
    expect(architectureHref(arch2, '#/')).toBeNull();
  });
});
