-- Let recpipeline_reader log in with a password (a deployment's analysts and services; docker-compose's init).
ALTER ROLE recpipeline_reader LOGIN PASSWORD %(password)s;
