import { describe, expect, it } from "vitest";
import { applyAssignments, parseAssignment } from "../../src/cli/assignments.js";
import { UsageError } from "../../src/errors.js";

const usage = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as UsageError).message;
  }
  throw new Error("expected a UsageError");
};

describe("cli assignments - key=value and key:=json", () => {
  it("assignments - = gives a string, := parses JSON (numbers, booleans, arrays, objects)", () => {
    expect(parseAssignment("positivePrompt=a cat = a dog")).toEqual({ path: ["positivePrompt"], value: "a cat = a dog" });
    expect(parseAssignment("numberResults:=2")).toEqual({ path: ["numberResults"], value: 2 });
    expect(parseAssignment("numberResults=2")).toEqual({ path: ["numberResults"], value: "2" });
    expect(parseAssignment("includeCost:=true").value).toBe(true);
    expect(parseAssignment('lora:=[{"model":"civitai:1@2","weight":0.8}]').value).toEqual([{ model: "civitai:1@2", weight: 0.8 }]);
    expect(parseAssignment("negativePrompt=").value).toBe("");
  });

  it("assignments - dotted keys nest, digit segments make arrays, applied in order over a base", () => {
    const base = { taskType: "imageInference", width: 512, inputs: { seedImage: "keep" } };
    const task = applyAssignments(base, [
      "width:=1024",
      "inputs.referenceImages.0=a.png",
      "inputs.referenceImages.1=b.png",
      "frameImages.0.inputImage=f.png",
      "frameImages.0.frame=first",
      "providerSettings.google.generateAudio:=true",
    ]);
    expect(task).toEqual({
      taskType: "imageInference",
      width: 1024,
      inputs: { seedImage: "keep", referenceImages: ["a.png", "b.png"] },
      frameImages: [{ inputImage: "f.png", frame: "first" }],
      providerSettings: { google: { generateAudio: true } },
    });
    expect(base.width).toBe(512); // the base is not changed
  });

  it("assignments - every mistake is a usage error naming the argument", () => {
    expect(usage(() => parseAssignment("prompt"))).toContain("'prompt': expected key=value");
    expect(usage(() => parseAssignment("=x"))).toContain("expected key=value");
    expect(usage(() => parseAssignment("a..b=x"))).toContain("empty segment");
    expect(usage(() => parseAssignment("n:=two"))).toContain("not JSON");
    expect(usage(() => parseAssignment("0=x"))).toContain("cannot start with an array index");
    expect(usage(() => parseAssignment("__proto__.x=1"))).toContain("cannot be a key");
    expect(usage(() => applyAssignments({}, ["a.2=x"]))).toContain("index 2 of a skips 0");
    expect(usage(() => applyAssignments({ width: 512 }, ["width.x=1"]))).toContain("width is already set to 512");
    expect(usage(() => applyAssignments({}, ["a.0=x", "a.b=y"]))).toContain("a is an array");
    expect(usage(() => applyAssignments({}, ["a.b=x", "a.0=y"]))).toContain("a is an object");
  });

  it("assignments - a prototype key cannot reach Object.prototype", () => {
    usage(() => applyAssignments({}, ["x.constructor.prototype.polluted=1"]));
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
});
