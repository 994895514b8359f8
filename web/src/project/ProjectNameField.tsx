// The project-name input of the create, fork and import forms, with the
// problem projectNameProblem found shown under it.

export function ProjectNameField({
  label,
  inputName,
  value,
  onChange,
  problem,
  disabled,
  placeholder,
}: {
  label: string;
  inputName: string;
  value: string;
  onChange: (v: string) => void;
  problem: string | null;
  disabled: boolean;
  placeholder?: string;
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <input
        name={inputName}
        value={value}
        autoFocus
        onChange={(e) => onChange(e.target.value)}
        placeholder={placeholder}
        disabled={disabled}
        aria-invalid={problem !== null}
      />
      {problem && <small className="field-error">{problem}</small>}
    </label>
  );
}
