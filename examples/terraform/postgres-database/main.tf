# A PostgreSQL database and the login role that owns it, on an existing server.
#
# Only Terraform's built-in pieces: `terraform_data` plus `local-exec` running `psql`, so
# `terraform init` downloads nothing and the module runs offline. A real deployment would
# use a PostgreSQL provider; this module is the environments feature's smallest real test.
#
# The admin password is never a variable: psql reads PGPASSWORD from the environment
# Terraform runs in, so it stays out of the plan and the state.

terraform {
  required_version = ">= 1.4" # terraform_data
}

variable "name" {
  type        = string
  description = "Database name; the role is <name>_owner."

  # The name becomes an identifier in SQL and part of another: keep both within
  # PostgreSQL's 63 bytes and free of anything that needs quoting.
  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,29}$", var.name))
    error_message = "The name must be 1-30 characters: a lowercase letter, then lowercase letters, digits or _."
  }
}

variable "host" {
  type    = string
  default = "127.0.0.1"
}

variable "port" {
  type    = number
  default = 5432
}

variable "admin_user" {
  type    = string
  default = "postgres"
}

# There is no way to generate it without the random provider, so the caller does. Terraform
# keeps sensitive variables out of its output; the saved plan file still holds it.
variable "password" {
  type      = string
  sensitive = true
}

locals {
  role = "${var.name}_owner"
}

resource "terraform_data" "database" {
  # Everything the destroy-time provisioner needs must be here: it may refer to `self` only.
  # The password is not: it would be stored in the state.
  input = {
    name       = var.name
    role       = local.role
    host       = var.host
    port       = var.port
    admin_user = var.admin_user
  }

  provisioner "local-exec" {
    # psql quotes :"x" as an identifier and :'x' as a literal; \getenv keeps the password
    # off psql's command line. CREATE DATABASE cannot run in a transaction: no -1.
    command = <<-EOT
      psql -X -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
      \getenv db DB_NAME
      \getenv role ROLE_NAME
      \getenv password ROLE_PASSWORD
      CREATE ROLE :"role" LOGIN PASSWORD :'password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
      CREATE DATABASE :"db" OWNER :"role";
      REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
      GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"role";
      SQL
    EOT
    environment = {
      PGHOST        = var.host
      PGPORT        = tostring(var.port)
      PGUSER        = var.admin_user
      DB_NAME       = var.name
      ROLE_NAME     = local.role
      ROLE_PASSWORD = var.password
    }
  }

  provisioner "local-exec" {
    when = destroy
    # IF EXISTS: a destroy after a half-failed create still converges.
    command = <<-EOT
      psql -X -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
      \getenv db DB_NAME
      \getenv role ROLE_NAME
      DROP DATABASE IF EXISTS :"db" WITH (FORCE);
      DROP ROLE IF EXISTS :"role";
      SQL
    EOT
    environment = {
      PGHOST    = self.input.host
      PGPORT    = tostring(self.input.port)
      PGUSER    = self.input.admin_user
      DB_NAME   = self.input.name
      ROLE_NAME = self.input.role
    }
  }
}

output "database" {
  value = terraform_data.database.output.name
}

output "role" {
  value = terraform_data.database.output.role
}

output "host" {
  value = var.host
}

output "port" {
  value = var.port
}

# Outputs are stored in the state in clear text, sensitive or not: hand the value to Vault
# and keep the state where only the platform can read it.
output "password" {
  value     = var.password
  sensitive = true
}
