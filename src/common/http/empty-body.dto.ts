/**
 * The body of an action that takes no input (freeze, unfreeze, close, void): `{}` or none.
 * The validation pipe accepts nothing else for a body class that declares no field.
 */
export class EmptyBodyDto {}
